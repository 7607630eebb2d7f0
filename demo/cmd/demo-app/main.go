// Command demo-app is the app both colours of the local stack run: it answers every path with its
// version and colour, reports OpenTelemetry's http.server.request.duration on /metrics, and has a
// fault switch (FAULT_ERROR_RATE, FAULT_LATENCY) to make a version bad on purpose.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownTimeout bounds the wait for in-flight requests after the drain. With the default DRAIN of
// 5 s, drain plus shutdown stays inside Kubernetes' default 30 s termination grace period.
const shutdownTimeout = 15 * time.Second

func main() {
	// -check-env validates the environment and exits: scripts/images.sh runs it on each image's
	// baked-in environment, so that a bad fault switch fails the build, not the pod.
	checkOnly := len(os.Args) == 2 && os.Args[1] == "-check-env"
	if len(os.Args) > 1 && !checkOnly {
		fmt.Fprintf(os.Stderr, "demo-app: unexpected arguments %q: it is configured by its environment "+
			"(PORT, APP_LATENCY, FAULT_ERROR_RATE, FAULT_LATENCY, DRAIN, STAGEWISE_COLOUR, LOG_LEVEL, OTEL_*); "+
			"the only flag is -check-env\n", os.Args[1:])
		os.Exit(2)
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-app: %v\n", err)
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	res, err := newResource(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-app: %v\n", err)
		os.Exit(2)
	}
	if checkOnly {
		return
	}
	a, err := newApp(cfg, res, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-app: %v\n", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-app: %v\n", err)
		os.Exit(1)
	}
	slog.Info("serving", "addr", ln.Addr().String(), "version", a.version, "colour", a.colour,
		"app_latency", cfg.LatencyMedian, "fault_error_rate", cfg.ErrorRate,
		"fault_latency", cfg.FaultLatency, "drain", cfg.Drain)
	if err := a.run(ctx, ln); err != nil {
		slog.Error("stopped", "err", err)
		os.Exit(1)
	}
}

// run serves on ln until ctx ends (SIGTERM), then drains: /ready answers 503 while the app keeps
// serving for cfg.Drain, so the endpoints drop the pod before it stops; then the server shuts down,
// letting in-flight requests complete.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	a.ready.Store(false)
	// Connection: close on every response from now on: a proxy holding a keep-alive connection
	// opens a new one for its next request, and by the end of the drain it has none to this pod
	// that Shutdown could close under a request in flight.
	srv.SetKeepAlivesEnabled(false)
	slog.Info("SIGTERM: draining; /ready answers 503", "drain", a.cfg.Drain)
	time.Sleep(a.cfg.Drain)

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if perr := a.provider.Shutdown(shutdownCtx); perr != nil {
		err = errors.Join(err, perr)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	slog.Info("stopped")
	return err
}
