package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an io.Writer the test can read while run writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func records(t *testing.T, data []byte) []record {
	t.Helper()
	var out []record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r record
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// An app-like server: the version header from the query, a 500 on /fail, a delay on /slow.
func appServer(t *testing.T) (*httptest.Server, *sync.Map) {
	hosts := &sync.Map{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host, true)
		w.Header().Set("X-App-Version", "1.5.0")
		w.Header().Set("X-App-Colour", "green")
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(500)
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		}
		_, _ = io.WriteString(w, "ok\n")
	}))
	t.Cleanup(srv.Close)
	return srv, hosts
}

func TestRecordsEveryResponseAtTheRate(t *testing.T) {
	srv, _ := appServer(t)
	var out lockedBuffer
	sum, err := run(context.Background(), config{URL: srv.URL + "/", Rate: 40, Duration: time.Second, Timeout: time.Second}, &out)
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, out.b.Bytes())
	// 40/s for 1 s: requests at 0, 25 ms, ... 975 ms.
	if len(recs) != sum.Sent || sum.Sent < 38 || sum.Sent > 41 {
		t.Fatalf("sent %d, recorded %d; want about 40 of each", sum.Sent, len(recs))
	}
	for _, r := range recs {
		if r.Status != 200 || r.Version != "1.5.0" || r.Colour != "green" || r.Error != "" || r.Ms <= 0 || r.T <= 0 {
			t.Errorf("record %+v", r)
		}
	}
	if sum.ByStatus[200] != len(recs) || sum.ByVersion["1.5.0"] != len(recs) {
		t.Errorf("summary %v", sum)
	}
	line := sum.String()
	for _, want := range []string{"sent ", "200=", "1.5.0="} {
		if !strings.Contains(line, want) {
			t.Errorf("summary %q lacks %q", line, want)
		}
	}
}

// Open loop: a server taking 300 ms per request does not slow the sending down.
func TestOpenLoop(t *testing.T) {
	srv, _ := appServer(t)
	var out lockedBuffer
	sum, err := run(context.Background(), config{URL: srv.URL + "/slow", Rate: 50, Duration: 500 * time.Millisecond, Timeout: 2 * time.Second}, &out)
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, out.b.Bytes())
	if sum.Sent < 24 || len(recs) != sum.Sent {
		t.Fatalf("sent %d, recorded %d; want 25 whatever the server's speed", sum.Sent, len(recs))
	}
	// Sending times follow the schedule (20 ms apart), not the 300 ms answers.
	first, last := recs[0].T, recs[0].T
	for _, r := range recs {
		first, last = min(first, r.T), max(last, r.T)
		if r.Ms < 300 {
			t.Errorf("a /slow request answered in %.1f ms", r.Ms)
		}
	}
	if span := last - first; span > 0.6 {
		t.Errorf("sends spread over %.2fs, want under 0.5s", span)
	}
}

func TestStatusesAndTimeouts(t *testing.T) {
	srv, _ := appServer(t)
	var out lockedBuffer
	if _, err := run(context.Background(), config{URL: srv.URL + "/fail", Rate: 20, Duration: 200 * time.Millisecond, Timeout: time.Second}, &out); err != nil {
		t.Fatal(err)
	}
	for _, r := range records(t, out.b.Bytes()) {
		if r.Status != 500 || r.Version != "1.5.0" || r.Error != "" {
			t.Errorf("a 500 is a response, recorded as such: %+v", r)
		}
	}
	out = lockedBuffer{}
	sum, err := run(context.Background(), config{URL: srv.URL + "/slow", Rate: 10, Duration: 100 * time.Millisecond, Timeout: 100 * time.Millisecond}, &out)
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, out.b.Bytes())
	if len(recs) == 0 {
		t.Fatal("no record")
	}
	for _, r := range recs {
		if r.Status != 0 || r.Error == "" || r.Ms < 100 || r.Ms > 250 {
			t.Errorf("a timed-out request: %+v, want status 0, an error, ~100 ms", r)
		}
	}
	if sum.ByStatus[0] != len(recs) || !strings.Contains(sum.String(), "none=") {
		t.Errorf("summary %v", sum)
	}
}

// A .localhost name is dialled on 127.0.0.1 whatever the resolver says, with its own Host header.
func TestLocalhostNamesDialLoopback(t *testing.T) {
	srv, hosts := appServer(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	host := "demo.stagewise.localhost:" + port
	var out lockedBuffer
	if _, err := run(context.Background(), config{URL: "http://" + host + "/", Rate: 10, Duration: 100 * time.Millisecond, Timeout: time.Second}, &out); err != nil {
		t.Fatal(err)
	}
	recs := records(t, out.b.Bytes())
	if len(recs) == 0 || recs[0].Status != 200 {
		t.Fatalf("records %+v", recs)
	}
	if _, ok := hosts.Load(host); !ok {
		t.Errorf("the server never saw Host %s", host)
	}
	for name, want := range map[string]bool{
		"localhost": true, "demo.stagewise.localhost": true, "DEMO.LOCALHOST.": true,
		"localhost.example.com": false, "notlocalhost": false, "127.0.0.1": false,
	} {
		if isLocalhost(name) != want {
			t.Errorf("isLocalhost(%q) = %v", name, !want)
		}
	}
}

func TestStopsOnCancel(t *testing.T) {
	srv, _ := appServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	var out lockedBuffer
	start := time.Now()
	sum, err := run(ctx, config{URL: srv.URL, Rate: 20, Timeout: time.Second}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > time.Second || sum.Sent < 3 || sum.Sent > 6 {
		t.Errorf("duration 0 ran %v and sent %d; want it to stop at the signal (~200ms, ~4 sent)", el, sum.Sent)
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "--url is required"},
		{[]string{"--url", "demo.localhost/"}, "absolute http"},
		{[]string{"--url", "ftp://x/"}, "absolute http"},
		{[]string{"--url", "http://x/", "--rate", "0"}, "--rate"},
		{[]string{"--url", "http://x/", "--rate", "NaN"}, "--rate"},
		{[]string{"--url", "http://x/", "--duration", "-1s"}, "--duration"},
		{[]string{"--url", "http://x/", "--timeout", "0s"}, "--timeout"},
		{[]string{"--url", "http://x/", "extra"}, "unexpected arguments"},
		{[]string{"--rate", "fast"}, "invalid value"},
	} {
		var stderr bytes.Buffer
		_, err := parseFlags(tc.args, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("%v: %v, want an error mentioning %q", tc.args, err, tc.want)
		}
	}
}

// The command itself: a bad flag is a message and exit status 2.
func TestBadFlagExitsTwo(t *testing.T) {
	bin := t.TempDir() + "/loadgen"
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--url", "http://x/", "--rate", "-3")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "--rate") {
		t.Errorf("exit %v, output %q; want status 2 and a message about --rate", err, out)
	}
}
