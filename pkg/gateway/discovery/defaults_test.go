package discovery

import (
	"testing"
	"time"
)

// TestZeroTimerTakesTheEtcdtimerDefault: a Resolver made with no Timer
// re-reads every key at --etcdtimer's default period (10000 ms), the one
// Options.Timer documents.
func TestZeroTimerTakesTheEtcdtimerDefault(t *testing.T) {
	r, err := New(Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.opts.Timer != 10*time.Second {
		t.Errorf("Timer = %v, want 10s", r.opts.Timer)
	}
}
