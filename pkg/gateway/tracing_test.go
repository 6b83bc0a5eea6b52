package gateway

import (
	"io"
	"strings"
	"testing"
)

// TestTracingSettingsAreCheckedAtStart protects --otlp-endpoint and
// --trace-sample-ratio: good values reach the Config from flags, the
// environment and the conf; bad ones are refused naming the flag.
func TestTracingSettingsAreCheckedAtStart(t *testing.T) {
	good := []struct {
		name     string
		settings map[string]string
		env      map[string]string
		args     []string
		endpoint string
		ratio    float64
	}{
		{name: "off by default", ratio: 1},
		{name: "flags", args: []string{"--otlp-endpoint=http://127.0.0.1:4318", "--trace-sample-ratio=0.25"}, endpoint: "http://127.0.0.1:4318", ratio: 0.25},
		{name: "env", env: map[string]string{"OTLP_ENDPOINT": "https://otel:4318", "TRACE_SAMPLE_RATIO": "0"}, endpoint: "https://otel:4318", ratio: 0},
		{name: "conf", settings: map[string]string{"otlp-endpoint": "http://c:4318", "trace-sample-ratio": "1"}, endpoint: "http://c:4318", ratio: 1},
	}
	for _, tt := range good {
		lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
		c, err := ParseConfig(tt.settings, tt.args, lookup, io.Discard)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if c.Tracing.Endpoint != tt.endpoint || c.Tracing.SampleRatio != tt.ratio {
			t.Errorf("%s: tracing %+v, want %s at %v", tt.name, c.Tracing, tt.endpoint, tt.ratio)
		}
	}
	bad := []struct {
		settings map[string]string
		args     []string
		want     string
	}{
		{args: []string{"--trace-sample-ratio=1.5"}, want: "--trace-sample-ratio=1.5: write a number from 0"},
		{args: []string{"--trace-sample-ratio=-0.5"}, want: "--trace-sample-ratio"},
		{args: []string{"--trace-sample-ratio=NaN"}, want: "--trace-sample-ratio"},
		{args: []string{"--trace-sample-ratio=half"}, want: "trace-sample-ratio"},
		{settings: map[string]string{"trace-sample-ratio": "half"}, want: "conf/gateway.conf setting trace-sample-ratio"},
		{args: []string{"--otlp-endpoint=127.0.0.1:4318"}, want: "--otlp-endpoint"},
		{args: []string{"--otlp-endpoint=grpc://127.0.0.1:4317"}, want: "--otlp-endpoint"},
	}
	for _, tt := range bad {
		_, err := ParseConfig(tt.settings, tt.args, noEnvLookup, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: error %v, want one containing %q", tt.settings, tt.args, err, tt.want)
		}
	}
}
