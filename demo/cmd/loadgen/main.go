// Command loadgen sends HTTP requests at a steady rate and records every response as one JSON line:
//
//	loadgen --url http://demo.stagewise.localhost/ --rate 20 --duration 60s --out responses.jsonl
//
// It is an open loop: each request starts on its own schedule, whether or not earlier ones have
// answered, so a slow version cannot slow the load down and hide its own latency. Each line is
// written as soon as its response is complete, so another process can tail the file:
//
//	{"t":1765000000.05,"status":200,"ms":12.3,"version":"1.5.0","colour":"green"}
//	{"t":1765000000.10,"status":0,"ms":2000.1,"version":"","colour":"","error":"..."}
//
// t is when the request was sent (Unix seconds), status 0 means no response. At the end, one
// summary line goes to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	URL      string
	Rate     float64
	Duration time.Duration
	Out      string
	Timeout  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "", "the URL to request (http or https; required)")
	fs.Float64Var(&c.Rate, "rate", 10, "requests per second, started on schedule (open loop)")
	fs.DurationVar(&c.Duration, "duration", 0, "how long to send; 0 sends until SIGINT or SIGTERM")
	fs.StringVar(&c.Out, "out", "-", "the file the JSON lines go to (created or truncated); - is stdout")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Second, "each request's limit, from sending to the end of the body")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q (every setting is a flag)", fs.Args())
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return config{}, errors.New("--url is required, e.g. --url http://demo.stagewise.localhost/")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return config{}, fmt.Errorf("--url %q: want an absolute http:// or https:// URL", c.URL)
	case math.IsNaN(c.Rate) || c.Rate <= 0 || c.Rate > 10000:
		return config{}, fmt.Errorf("--rate %g: want requests per second, more than 0 and at most 10000", c.Rate)
	case c.Duration < 0:
		return config{}, fmt.Errorf("--duration %v: want 0 (until a signal) or a positive duration", c.Duration)
	case c.Timeout <= 0:
		return config{}, fmt.Errorf("--timeout %v: want a positive duration such as 2s", c.Timeout)
	}
	return c, nil
}

// record is one JSON line.
type record struct {
	T       float64 `json:"t"`
	Status  int     `json:"status"`
	Ms      float64 `json:"ms"`
	Version string  `json:"version"`
	Colour  string  `json:"colour"`
	Error   string  `json:"error,omitempty"`
}

// isLocalhost: the name is localhost or ends in .localhost, which RFC 6761 (section 6.3) reserves
// for loopback. curl resolves them so itself; a system resolver may not know such names at all.
func isLocalhost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

func newClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy: nil, // straight to the gateway: a proxy from the environment would not know .localhost
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err == nil && isLocalhost(host) {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		// Enough idle connections that a steady rate reuses them instead of opening one per request.
		MaxIdleConns:        1000,
		MaxIdleConnsPerHost: 1000,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport: transport,
		// The answer of the URL itself is what is measured, not of wherever it redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// one sends a request and describes its outcome. The timeout covers the body too.
func one(ctx context.Context, client *http.Client, target string, timeout time.Duration) record {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	rec := record{T: float64(start.UnixNano()) / 1e9}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	resp, err := client.Do(req)
	if err != nil {
		rec.Ms = ms(time.Since(start))
		rec.Error = err.Error()
		return rec
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	rec.Ms = ms(time.Since(start))
	rec.Status = resp.StatusCode
	rec.Version = resp.Header.Get("X-App-Version")
	rec.Colour = resp.Header.Get("X-App-Colour")
	if err != nil {
		rec.Error = "reading the body: " + err.Error()
	}
	return rec
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// summary counts the responses.
type summary struct {
	Sent      int
	ByStatus  map[int]int
	ByVersion map[string]int
	Elapsed   time.Duration
}

func (s summary) String() string {
	var st []string
	for _, k := range slices.Sorted(maps.Keys(s.ByStatus)) {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "none"
		}
		st = append(st, fmt.Sprintf("%s=%d", name, s.ByStatus[k]))
	}
	var vs []string
	for _, k := range slices.Sorted(maps.Keys(s.ByVersion)) {
		name := k
		if k == "" {
			name = "(none)"
		}
		vs = append(vs, fmt.Sprintf("%s=%d", name, s.ByVersion[k]))
	}
	if len(vs) == 0 {
		vs = []string{"(no response)"}
	}
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Sent) / s.Elapsed.Seconds()
	}
	return fmt.Sprintf("loadgen: sent %d in %.1fs (%.1f/s); status: %s; version: %s",
		s.Sent, s.Elapsed.Seconds(), rate, strings.Join(st, " "), strings.Join(vs, " "))
}

// run sends at cfg.Rate until ctx ends or cfg.Duration has passed, writes each outcome to out as it
// comes, waits for the requests in flight, and returns the counts.
func run(ctx context.Context, cfg config, out io.Writer) (summary, error) {
	client := newClient(cfg.Timeout)
	defer client.CloseIdleConnections()
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	// In-flight requests finish on their own timeout even once sending stops.
	reqCtx := context.WithoutCancel(ctx)

	sum := summary{ByStatus: map[int]int{}, ByVersion: map[string]int{}}
	results := make(chan record, 1024)
	var writeErr error
	written := make(chan struct{})
	go func() {
		defer close(written)
		// One Write per line, straight to the file: a reader tailing it sees whole lines at once.
		enc := json.NewEncoder(out)
		for r := range results {
			sum.ByStatus[r.Status]++
			if r.Status != 0 {
				sum.ByVersion[r.Version]++
			}
			if writeErr == nil {
				writeErr = enc.Encode(r)
			}
		}
	}()

	interval := time.Duration(float64(time.Second) / cfg.Rate)
	start := time.Now()
	var inflight sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	// Each request's start is fixed by the schedule (start + i·interval), not by when the previous
	// one was started: a late wake-up is caught up, and no request is dropped, unlike a ticker's.
	for i := 0; ; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		sum.Sent++
		inflight.Go(func() { results <- one(reqCtx, client, cfg.URL, cfg.Timeout) })
	}
	sum.Elapsed = time.Since(start)
	inflight.Wait()
	close(results)
	<-written
	return sum, writeErr
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(2)
	}
	out := io.Writer(os.Stdout)
	if cfg.Out != "-" {
		f, err := os.OpenFile(cfg.Out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: --out: %v\n", err)
			os.Exit(2)
		}
		defer f.Close()
		out = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sum, err := run(ctx, cfg, out)
	fmt.Fprintln(os.Stderr, sum)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: writing the results: %v\n", err)
		os.Exit(1)
	}
}
