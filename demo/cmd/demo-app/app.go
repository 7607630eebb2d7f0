package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
)

const (
	// defaultServiceName is service.name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES
	// names one (the deployment always does: the image's name).
	defaultServiceName = "demo-app"
	// unknownVersion is service.version when OTEL_RESOURCE_ATTRIBUTES carries none.
	unknownVersion = "unknown"
	// appRoute is the ServeMux pattern of the app itself, and so the http.route of its requests:
	// one low-cardinality route for every path, as the semantic conventions ask.
	appRoute = "/{path...}"
	// scopeName is the instrumentation scope of the app's own meter.
	scopeName = "stagewise.dev/demo/cmd/demo-app"
)

// app serves the demo: the probes, /metrics, and every other path as the app itself.
type app struct {
	cfg     config
	version string
	colour  string

	// ready is false once SIGTERM arrived: /ready answers 503 so that the pod leaves the endpoints.
	ready atomic.Bool

	// rng draws the base latency and the injected errors; math/rand/v2's Rand is not safe for
	// concurrent use, hence the mutex. Tests seed it for repeatable shares.
	mu  sync.Mutex
	rng *rand.Rand

	// sleep stands for the request's work; tests replace it to observe the latency without waiting.
	sleep func(d time.Duration)

	duration httpconv.ServerRequestDuration
	provider *sdkmetric.MeterProvider
	metrics  http.Handler
}

// newResource is the OpenTelemetry resource of the app: the SDK's attributes, overridden by
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (the deployment sets service.version there). A
// malformed OTEL_RESOURCE_ATTRIBUTES is an error, not a resource with a silently missing version.
func newResource(ctx context.Context) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(defaultServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES or OTEL_SERVICE_NAME: %w "+
			"(expected comma-separated key=value pairs, e.g. service.version=1.5.0)", err)
	}
	return res, nil
}

// newApp builds the app with its own Prometheus registry (no process-global state, so tests can
// build several) and the OpenTelemetry SDK behind it.
func newApp(cfg config, res *resource.Resource, rng *rand.Rand) (*app, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(registry),
		// Pinned rather than left to the exporter's default (which follows the process-wide name
		// validation scheme and is announced to change): Prometheus-style names with unit and
		// type suffixes, so the histogram is http_server_request_duration_seconds{_bucket,_count,
		// _sum} and its labels http_response_status_code etc., the names the stage gate queries.
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		// service.version and service.name on every series, not only on target_info: the gate
		// selects a colour's requests by service_version without a join.
		otelprom.WithResourceAsConstantLabels(attribute.NewAllowKeysFilter(
			semconv.ServiceVersionKey, semconv.ServiceNameKey)),
	)
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res))
	// httpconv sets the conventions' name, unit (s) and advised bucket boundaries.
	duration, err := httpconv.NewServerRequestDuration(provider.Meter(scopeName))
	if err != nil {
		return nil, fmt.Errorf("http.server.request.duration: %w", err)
	}

	a := &app{
		cfg:      cfg,
		version:  unknownVersion,
		colour:   cfg.Colour,
		rng:      rng,
		sleep:    time.Sleep,
		duration: duration,
		provider: provider,
		metrics:  promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
	}
	if v, ok := res.Set().Value(semconv.ServiceVersionKey); ok && v.AsString() != "" {
		a.version = v.AsString()
	}
	a.ready.Store(true)
	return a, nil
}

// handler routes the requests. Every response, errors included, names the version and colour.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			writeText(w, http.StatusServiceUnavailable, "draining\n")
			return
		}
		writeText(w, http.StatusOK, "ready\n")
	})
	mux.Handle("/metrics", a.metrics)
	// Only the app's own route is measured: probes and scrapes are not user traffic, and would
	// dilute a colour's error share and latency.
	mux.Handle(appRoute, a.measured(http.HandlerFunc(a.serveApp)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App-Version", a.version)
		w.Header().Set("X-App-Colour", a.colour)
		mux.ServeHTTP(w, r)
	})
}

// serveApp is the app: a log-normal base latency, the fault switch's added latency, then either the
// injected 500 or a short text naming the version and colour.
func (a *app) serveApp(w http.ResponseWriter, r *http.Request) {
	delay, fail := a.draw()
	// The whole time even if the client hangs up, as a service busy with the request would: the
	// histogram then records what serving it took, never a wait cut short by the client.
	a.sleep(delay + a.cfg.FaultLatency)
	if fail {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("injected fault (FAULT_ERROR_RATE=%g)\n", a.cfg.ErrorRate))
		return
	}
	writeText(w, http.StatusOK, fmt.Sprintf("demo-app %s (%s)\n", a.version, a.colour))
}

// draw returns one request's base latency and whether it fails.
func (a *app) draw() (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var delay time.Duration
	if a.cfg.LatencyMedian > 0 {
		// Log-normal: the median times e^(σ·N(0,1)).
		delay = time.Duration(float64(a.cfg.LatencyMedian) * math.Exp(latencySigma*a.rng.NormFloat64()))
	}
	// Drawn only when the switch is on, so a healthy version's latencies do not depend on it.
	fail := a.cfg.ErrorRate > 0 && a.rng.Float64() < a.cfg.ErrorRate
	return delay, fail
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// measured records http.server.request.duration for each request next serves, with the attributes
// the conventions require (method, scheme, status, route, and error.type on 5xx).
func (a *app) measured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		attrs := []attribute.KeyValue{
			a.duration.AttrResponseStatusCode(status),
			a.duration.AttrRoute(r.Pattern),
		}
		if status >= 500 {
			// The conventions: error.type is the status code when a server answers 5xx.
			attrs = append(attrs, a.duration.AttrErrorType(httpconv.ErrorTypeAttr(strconv.Itoa(status))))
		}
		// context.WithoutCancel: a client that hung up still had its request measured.
		a.duration.Record(context.WithoutCancel(r.Context()), time.Since(start).Seconds(),
			requestMethod(r.Method), scheme, attrs...)
	})
}

// requestMethod maps a method to the conventions' http.request.method: the known methods as they
// are, anything else as _OTHER (which keeps the label's cardinality bounded).
func requestMethod(m string) httpconv.RequestMethodAttr {
	switch m {
	case http.MethodConnect, http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions,
		http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodTrace:
		return httpconv.RequestMethodAttr(m)
	}
	return httpconv.RequestMethodOther
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
