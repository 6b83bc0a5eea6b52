package proxy

import (
	"testing"
	"time"
)

// TestZeroOptionsTakeTheDocumentedDefaults: a proxy built with zero Options
// (as tests and other callers do) gets the defaults Options documents, which
// are those of package settings, the gateway's flags and the conf template.
func TestZeroOptionsTakeTheDocumentedDefaults(t *testing.T) {
	var o Options
	o.setDefaults()
	for _, d := range []struct {
		name      string
		got, want time.Duration
	}{
		{"Timeout", o.Timeout, 60 * time.Second},
		{"BackendIdleTimeout", o.BackendIdleTimeout, 90 * time.Second},
		{"ClientIdleTimeout", o.ClientIdleTimeout, 90 * time.Second},
		{"ClientReadTimeout", o.ClientReadTimeout, 60 * time.Second},
		{"ClientWriteTimeout", o.ClientWriteTimeout, 60 * time.Second},
	} {
		if d.got != d.want {
			t.Errorf("%s = %v, want %v", d.name, d.got, d.want)
		}
	}
	if o.MaxHeaderBytes != 16<<10 || o.MaxConnsPerHost != 1024 {
		t.Errorf("MaxHeaderBytes = %d, MaxConnsPerHost = %d; want 16384 and 1024", o.MaxHeaderBytes, o.MaxConnsPerHost)
	}
	if o.Logger == nil {
		t.Error("no logger")
	}
}
