package main

import (
	"context"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

func envOf(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := config{Port: "8080", Colour: "unknown", LatencyMedian: 10 * time.Millisecond,
		Drain: 5 * time.Second, LogLevel: slog.LevelInfo}
	if cfg != want {
		t.Errorf("defaults %+v, want %+v", cfg, want)
	}
}

func TestConfigReadsEverySetting(t *testing.T) {
	cfg, err := loadConfig(envOf(map[string]string{
		"PORT": "9090", "STAGEWISE_COLOUR": "blue", "APP_LATENCY": "25ms", "FAULT_ERROR_RATE": "0.3",
		"FAULT_LATENCY": "400ms", "DRAIN": "0s", "LOG_LEVEL": "warning",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := config{Port: "9090", Colour: "blue", LatencyMedian: 25 * time.Millisecond, ErrorRate: 0.3,
		FaultLatency: 400 * time.Millisecond, Drain: 0, LogLevel: slog.LevelWarn}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for _, tc := range []struct{ name, value, allowed string }{
		{"FAULT_ERROR_RATE", "1.5", "from 0 to 1"},
		{"FAULT_ERROR_RATE", "-0.1", "from 0 to 1"},
		{"FAULT_ERROR_RATE", "30%", "from 0 to 1"},
		{"FAULT_ERROR_RATE", "NaN", "from 0 to 1"},
		{"FAULT_LATENCY", "400", "Go duration"},
		{"FAULT_LATENCY", "-1s", "non-negative"},
		{"APP_LATENCY", "fast", "Go duration"},
		{"DRAIN", "5", "Go duration"},
		{"PORT", "http", "1..65535"},
		{"PORT", "70000", "1..65535"},
		{"LOG_LEVEL", "verbose", "debug, info, warning or error"},
	} {
		_, err := loadConfig(envOf(map[string]string{tc.name: tc.value}))
		if err == nil {
			t.Errorf("%s=%q accepted", tc.name, tc.value)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.name+`="`+tc.value+`"`) || !strings.Contains(msg, tc.allowed) {
			t.Errorf("%s=%q: message %q should name the variable, its value and %q", tc.name, tc.value, msg, tc.allowed)
		}
	}
}

func TestConfigReportsEveryBadVariable(t *testing.T) {
	_, err := loadConfig(envOf(map[string]string{"FAULT_ERROR_RATE": "2", "FAULT_LATENCY": "soon"}))
	if err == nil || !strings.Contains(err.Error(), "FAULT_ERROR_RATE") || !strings.Contains(err.Error(), "FAULT_LATENCY") {
		t.Errorf("got %v, want both variables named", err)
	}
}

func TestMalformedResourceAttributesAreAnError(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "1.5.0")
	_, err := newResource(context.Background())
	if err == nil || !strings.Contains(err.Error(), "OTEL_RESOURCE_ATTRIBUTES") {
		t.Errorf("got %v, want an error naming OTEL_RESOURCE_ATTRIBUTES", err)
	}
}

func TestResourceFromEnvironment(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "demo-app")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.version=1.6.0,deployment.environment.name=local")
	res, err := newResource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"service.name": "demo-app", "service.version": "1.6.0"} {
		v, ok := res.Set().Value(attribute.Key(k))
		if !ok || v.AsString() != want {
			t.Errorf("%s = %q, want %q", k, v.AsString(), want)
		}
	}
}

// The command itself: a bad value stops it at start with status 2 and a message naming the
// variable; -check-env accepts a good environment and exits 0 without serving.
func TestCommandValidatesItsEnvironment(t *testing.T) {
	bin := t.TempDir() + "/demo-app"
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		args   []string
		env    []string
		status int
		want   string
	}{
		{nil, []string{"FAULT_ERROR_RATE=0.3x"}, 2, "FAULT_ERROR_RATE=\"0.3x\": must be a number from 0 to 1"},
		{nil, []string{"FAULT_LATENCY=400"}, 2, "FAULT_LATENCY=\"400\""},
		{nil, []string{"OTEL_RESOURCE_ATTRIBUTES=1.5.0"}, 2, "OTEL_RESOURCE_ATTRIBUTES"},
		{[]string{"-check-env"}, []string{"FAULT_LATENCY=400ms", "FAULT_ERROR_RATE=0.3"}, 0, ""},
		{[]string{"--port", "80"}, nil, 2, "configured by its environment"},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = tc.env
		out, err := cmd.CombinedOutput()
		status := 0
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if status != tc.status || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v %v: status %d, output %q; want %d and %q", tc.env, tc.args, status, out, tc.status, tc.want)
		}
	}
}
