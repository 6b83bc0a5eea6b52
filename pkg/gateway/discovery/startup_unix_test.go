//go:build unix

package discovery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// startTimed builds a Resolver and runs Start in another goroutine, so that
// a Start that hangs fails the test after limit instead of hanging it. It
// returns how long Start took.
func startTimed(t *testing.T, opts Options, limit time.Duration) (*Resolver, *logs, time.Duration) {
	t.Helper()
	r, l := buildResolver(t, opts, map[string]string{"a": defA})
	began := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Start(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("Start still running after %v", limit)
	}
	return r, l, time.Since(began)
}

// TestRefusedEtcdDoesNotDelayStartup: when every member refuses the
// connection, Start gives up at once instead of waiting out StartupTimeout
// (an hour here, so a Start that waited would hit the test's limit).
func TestRefusedEtcdDoesNotDelayStartup(t *testing.T) {
	urls := []string{"http://" + refusingAddr(t), "http://" + refusingAddr(t)}
	r, l, took := startTimed(t, Options{Endpoints: urls, Timer: time.Hour, StartupTimeout: time.Hour}, wait)
	t.Logf("Start returned after %v", took)
	if !l.has("no etcd member accepts connections") {
		t.Errorf("the startup failure does not say that every member refused")
	}
	if got := r.Binding("a").Load().Raw; got != defA {
		t.Errorf("a routes to %s, want the default", got)
	}
}

// TestStartupBoundedWhenMembersDropPackets: members that drop connection
// attempts, or accept them and never answer, hold the start for
// StartupTimeout and no longer, however many they are: the first read and
// the probe that explains its failure run in parallel, every member at
// once, under that one deadline. (Before, the probe ran after the read and
// gave each member one more second, in turn.)
func TestStartupBoundedWhenMembersDropPackets(t *testing.T) {
	const startup = 100 * time.Millisecond
	// The limit leaves a loaded machine ample slack over StartupTimeout,
	// and is still below the extra second each member's probe took before.
	const limit = startup + 700*time.Millisecond
	tests := []struct {
		name    string
		members int
		url     func(*testing.T) string
		finding string
	}{
		{"dropping", 1, func(t *testing.T) string { return "http://" + droppingAddr(t) }, "no connection before the deadline"},
		{"dropping", 3, func(t *testing.T) string { return "http://" + droppingAddr(t) }, "no connection before the deadline"},
		{"silent-tls", 1, func(t *testing.T) string { return "https://" + holdingAddr(t) }, "accepts connections but the TLS handshake did not finish"},
		{"silent-tls", 3, func(t *testing.T) string { return "https://" + holdingAddr(t) }, "accepts connections but the TLS handshake did not finish"},
		{"silent", 3, func(t *testing.T) string { return "http://" + holdingAddr(t) }, "accepts connections but does not answer"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-%d", tt.name, tt.members), func(t *testing.T) {
			var urls []string
			for range tt.members {
				urls = append(urls, tt.url(t))
			}
			r, _, took := startTimed(t, Options{Endpoints: urls, Timer: time.Hour, StartupTimeout: startup}, wait)
			t.Logf("Start returned after %v (StartupTimeout %v)", took, startup)
			if took > limit {
				t.Errorf("Start took %v with StartupTimeout %v", took, startup)
			}
			if got := r.Binding("a").Load().Raw; got != defA {
				t.Errorf("a routes to %s, want the default", got)
			}
			// Start returned because of its deadline, and says what each
			// member did within it.
			msg := r.Status().Etcd.LastError
			if !strings.Contains(msg, "no answer within the startup timeout (100ms)") {
				t.Errorf("startup error %q does not name the startup timeout", msg)
			}
			for _, u := range urls {
				if !strings.Contains(msg, u+": "+tt.finding) {
					t.Errorf("startup error %q does not say of %s: %s", msg, u, tt.finding)
				}
			}
		})
	}
}
