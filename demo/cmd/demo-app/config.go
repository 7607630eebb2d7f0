package main

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// config is everything the app reads from its environment. The OpenTelemetry identity
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) is read by the SDK's own resource detector instead,
// so that the X-App-Version header and the service_version label cannot disagree.
type config struct {
	Port string
	// Colour is STAGEWISE_COLOUR, set per colour by the deployment ("blue" or "green").
	Colour string
	// LatencyMedian is the median of the log-normal base latency of an app request (APP_LATENCY).
	LatencyMedian time.Duration
	// ErrorRate is the share of app requests answered 500 (FAULT_ERROR_RATE, 0..1).
	ErrorRate float64
	// FaultLatency is added to every app request (FAULT_LATENCY).
	FaultLatency time.Duration
	// Drain is how long the app keeps serving after SIGTERM, with /ready at 503 (DRAIN).
	Drain    time.Duration
	LogLevel slog.Level
}

// latencySigma is the σ of the base latency's log-normal distribution (of ln t). With 0.5 the p95
// is about 2.3× the median and the p99 about 3.2×: a tail like a real service's, yet a healthy
// version at the default 10 ms median stays far below the gate's latency limits.
const latencySigma = 0.5

const (
	defaultPort    = "8080"
	defaultLatency = 10 * time.Millisecond
	defaultDrain   = 5 * time.Second
)

// loadConfig reads the app's settings through getenv (os.Getenv in main). An empty variable counts
// as unset. The error names the variable, its value and what is allowed.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		Port:          defaultPort,
		Colour:        "unknown",
		LatencyMedian: defaultLatency,
		Drain:         defaultDrain,
		LogLevel:      slog.LevelInfo,
	}
	var errs []string
	bad := func(name, value, allowed string) {
		errs = append(errs, fmt.Sprintf("%s=%q: %s", name, value, allowed))
	}

	if v := getenv("PORT"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
			bad("PORT", v, "must be a TCP port number, 1..65535")
		} else {
			cfg.Port = v
		}
	}
	if v := getenv("STAGEWISE_COLOUR"); v != "" {
		cfg.Colour = v
	}
	duration := func(name string, target *time.Duration) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad(name, v, `must be a non-negative Go duration such as "10ms", "400ms" or "1.5s"`)
			return
		}
		*target = d
	}
	duration("APP_LATENCY", &cfg.LatencyMedian)
	duration("FAULT_LATENCY", &cfg.FaultLatency)
	duration("DRAIN", &cfg.Drain)

	if v := getenv("FAULT_ERROR_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
			bad("FAULT_ERROR_RATE", v, "must be a number from 0 to 1: the share of app requests answered 500")
		} else {
			cfg.ErrorRate = r
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		// The stack's log levels (stagewise:logLevel): debug, info, warning, error.
		switch strings.ToLower(v) {
		case "debug":
			cfg.LogLevel = slog.LevelDebug
		case "info":
			cfg.LogLevel = slog.LevelInfo
		case "warning", "warn":
			cfg.LogLevel = slog.LevelWarn
		case "error":
			cfg.LogLevel = slog.LevelError
		default:
			bad("LOG_LEVEL", v, "must be debug, info, warning or error")
		}
	}
	if len(errs) > 0 {
		return config{}, fmt.Errorf("bad environment: %s", strings.Join(errs, "; "))
	}
	return cfg, nil
}
