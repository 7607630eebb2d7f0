package main

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// testApp builds the app from env (as the deployment would set it) with a seeded random source.
func testApp(t *testing.T, env map[string]string) *app {
	t.Helper()
	for _, k := range []string{"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"} {
		t.Setenv(k, env[k])
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	res, err := newResource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, res, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.provider.Shutdown(context.Background()) })
	return a
}

func baseEnv(extra ...string) map[string]string {
	env := map[string]string{
		"STAGEWISE_COLOUR":         "green",
		"OTEL_SERVICE_NAME":        "demo-app",
		"OTEL_RESOURCE_ATTRIBUTES": "service.version=1.5.0",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// sleepLog replaces the app's sleep: requests are instant, and each wait is recorded.
type sleepLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepLog) sleep(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestEveryResponseNamesVersionAndColour(t *testing.T) {
	a := testApp(t, baseEnv("FAULT_ERROR_RATE", "1"))
	a.sleep = (&sleepLog{}).sleep
	h := a.handler()
	a.ready.Store(false) // /ready answers 503: an error response must carry the headers too

	for path, want := range map[string]int{
		"/": 500, "/orders/42": 500, "/health": 200, "/ready": 503, "/metrics": 200,
	} {
		rec := get(t, h, path)
		if rec.Code != want {
			t.Errorf("%s: status %d, want %d", path, rec.Code, want)
		}
		if v := rec.Header().Get("X-App-Version"); v != "1.5.0" {
			t.Errorf("%s: X-App-Version %q, want 1.5.0", path, v)
		}
		if c := rec.Header().Get("X-App-Colour"); c != "green" {
			t.Errorf("%s: X-App-Colour %q, want green", path, c)
		}
	}
}

func TestAppBodyNamesVersionAndColour(t *testing.T) {
	a := testApp(t, baseEnv())
	a.sleep = (&sleepLog{}).sleep
	rec := get(t, a.handler(), "/anything")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "1.5.0") || !strings.Contains(rec.Body.String(), "green") {
		t.Fatalf("got %d %q, want 200 naming 1.5.0 and green", rec.Code, rec.Body.String())
	}
}

func TestVersionDefaultsWhenResourceHasNone(t *testing.T) {
	a := testApp(t, map[string]string{})
	rec := get(t, a.handler(), "/health")
	if v := rec.Header().Get("X-App-Version"); v != unknownVersion {
		t.Errorf("X-App-Version %q, want %q", v, unknownVersion)
	}
	if c := rec.Header().Get("X-App-Colour"); c != "unknown" {
		t.Errorf("X-App-Colour %q, want unknown", c)
	}
}

func countStatus(t *testing.T, h http.Handler, n int) map[int]int {
	t.Helper()
	counts := map[int]int{}
	for range n {
		counts[get(t, h, "/").Code]++
	}
	return counts
}

func TestFaultErrorShare(t *testing.T) {
	const n = 4000
	for _, rate := range []float64{0, 0.05, 0.3, 1} {
		a := testApp(t, baseEnv("FAULT_ERROR_RATE", strconv.FormatFloat(rate, 'g', -1, 64)))
		a.sleep = (&sleepLog{}).sleep
		counts := countStatus(t, a.handler(), n)
		if counts[200]+counts[500] != n {
			t.Fatalf("rate %g: statuses %v, want only 200 and 500", rate, counts)
		}
		// Binomial(n, rate): the share of 500s lies within 4 standard deviations of rate (a false
		// failure has probability < 1e-4; with the fixed seed the draw is the same every run).
		sd := math.Sqrt(float64(n) * rate * (1 - rate))
		if got, want := float64(counts[500]), rate*n; math.Abs(got-want) > 4*sd {
			t.Errorf("rate %g: %d of %d answered 500, want %.0f ± %.0f", rate, counts[500], n, want, 4*sd)
		}
	}
}

func TestBaseLatencyIsLogNormal(t *testing.T) {
	a := testApp(t, baseEnv("APP_LATENCY", "10ms"))
	log := &sleepLog{}
	a.sleep = log.sleep
	countStatus(t, a.handler(), 4000)
	w := slices.Clone(log.waits)
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	median := w[len(w)/2]
	p95 := w[len(w)*95/100]
	if median < 9*time.Millisecond || median > 11*time.Millisecond {
		t.Errorf("median %v, want 10ms ± 10%%", median)
	}
	// For a log-normal, p95/median = e^(1.645σ) = 2.28 at σ = 0.5.
	if r := float64(p95) / float64(median); r < 2.0 || r > 2.6 {
		t.Errorf("p95/median %.2f, want about 2.28 (σ = 0.5)", r)
	}
}

func TestFaultLatencyIsAddedToEveryRequest(t *testing.T) {
	a := testApp(t, baseEnv("APP_LATENCY", "0", "FAULT_LATENCY", "400ms"))
	log := &sleepLog{}
	a.sleep = log.sleep
	countStatus(t, a.handler(), 50)
	get(t, a.handler(), "/health") // probes are not slowed down
	if len(log.waits) != 50 {
		t.Fatalf("%d waits, want one per app request (50)", len(log.waits))
	}
	for _, d := range log.waits {
		if d != 400*time.Millisecond {
			t.Fatalf("wait %v, want exactly FAULT_LATENCY (400ms) with APP_LATENCY=0", d)
		}
	}
}

// scrape parses the app's /metrics as Prometheus does (legacy names: valid whatever the server's
// name validation scheme).
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := get(t, h, "/metrics")
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// The stage gate's queries read http_server_request_duration_seconds_{count,bucket} by
// service_version, http_response_status_code and le: those exact names must come out.
func TestMetricsExposition(t *testing.T) {
	a := testApp(t, baseEnv("FAULT_ERROR_RATE", "0.5"))
	a.sleep = (&sleepLog{}).sleep
	h := a.handler()
	counts := countStatus(t, h, 200)
	get(t, h, "/health")
	get(t, h, "/ready")
	get(t, h, "/metrics")

	families := scrape(t, h)
	mf := families["http_server_request_duration_seconds"]
	if mf == nil {
		names := make([]string, 0, len(families))
		for n := range families {
			names = append(names, n)
		}
		t.Fatalf("no http_server_request_duration_seconds family; got %v", names)
	}
	if mf.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("type %v, want histogram", mf.GetType())
	}
	byStatus := map[string]uint64{}
	for _, m := range mf.GetMetric() {
		l := labels(m)
		for k, want := range map[string]string{
			"service_version":     "1.5.0",
			"service_name":        "demo-app",
			"http_request_method": "GET",
			"http_route":          appRoute,
		} {
			if l[k] != want {
				t.Errorf("label %s=%q, want %q (labels %v)", k, l[k], want, l)
			}
		}
		byStatus[l["http_response_status_code"]] += m.GetHistogram().GetSampleCount()
		if l["http_response_status_code"] == "500" && l["error_type"] != "500" {
			t.Errorf("a 500 series without error_type=500: %v", l)
		}
		var bounds []float64
		for _, b := range m.GetHistogram().GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		// The conventions' advice, then the +Inf bucket every Prometheus histogram ends with.
		want := []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, math.Inf(1)}
		if !slices.Equal(bounds, want) {
			t.Errorf("bucket bounds %v, want the conventions' %v", bounds, want)
		}
	}
	// Only app requests are counted: the probes and the scrape are not.
	if byStatus["200"] != uint64(counts[200]) || byStatus["500"] != uint64(counts[500]) || len(byStatus) != 2 {
		t.Errorf("counted %v, want 200:%d 500:%d and nothing else", byStatus, counts[200], counts[500])
	}

	// The text exposition itself, as the gate's PromQL names it.
	text := get(t, h, "/metrics").Body.String()
	for _, s := range []string{
		`http_server_request_duration_seconds_count{`,
		`http_server_request_duration_seconds_bucket{`,
		`service_version="1.5.0"`,
		`http_response_status_code="500"`,
		`le="+Inf"`,
	} {
		if !strings.Contains(text, s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	if strings.Contains(text, "duration_seconds_total") || strings.Contains(text, "duration_seconds_seconds") {
		t.Errorf("/metrics has a doubled suffix:\n%s", text)
	}
}

// A real server, a real FAULT_LATENCY: the response takes at least that long and the histogram
// records it (nothing at or below 50 ms).
func TestFaultLatencyIsMeasured(t *testing.T) {
	a := testApp(t, baseEnv("APP_LATENCY", "1ms", "FAULT_LATENCY", "60ms"))
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	start := time.Now()
	resp, err := http.Get(srv.URL + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if el := time.Since(start); el < 60*time.Millisecond {
		t.Errorf("answered in %v, want ≥ 60ms", el)
	}
	mf := scrape(t, a.handler())["http_server_request_duration_seconds"]
	if mf == nil || len(mf.GetMetric()) != 1 {
		t.Fatalf("want one series, got %v", mf)
	}
	for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
		if b.GetUpperBound() <= 0.05 && b.GetCumulativeCount() != 0 {
			t.Errorf("bucket le=%g has %d requests, want 0 (every request took ≥ 60ms)", b.GetUpperBound(), b.GetCumulativeCount())
		}
		if b.GetUpperBound() >= 0.075 && b.GetCumulativeCount() != 1 {
			t.Errorf("bucket le=%g has %d requests, want 1", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
}

// SIGTERM (the context ending): /ready turns 503 at once, the app keeps serving for DRAIN, a
// request in flight completes, then the server stops.
func TestGracefulDrain(t *testing.T) {
	a := testApp(t, baseEnv("APP_LATENCY", "0", "FAULT_LATENCY", "300ms", "DRAIN", "400ms"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()

	status := func(path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status("/ready"); s != 200 {
		t.Fatalf("/ready before SIGTERM: %d", s)
	}
	inflight := make(chan int, 1)
	go func() { inflight <- status("/in-flight") }()
	time.Sleep(50 * time.Millisecond) // the slow request is in the server
	cancel()
	time.Sleep(50 * time.Millisecond)
	if s := status("/ready"); s != 503 {
		t.Errorf("/ready while draining: %d, want 503", s)
	}
	if s := status("/health"); s != 200 {
		t.Errorf("/health while draining: %d, want 200", s)
	}
	if s := <-inflight; s != 200 {
		t.Errorf("request in flight at SIGTERM: %d, want 200", s)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop after the drain")
	}
	if s := status("/health"); s != 0 {
		t.Errorf("after shutdown: %d, want no answer", s)
	}
}
