package proxy

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// TestBackendFailureWarningsAreRateLimited: a dead backend under load used
// to log one warning per failed request (6,700 lines in under a second).
// Now each backend logs at most one per second of the (injected) clock,
// and the next one counts the failures left out.
func TestBackendFailureWarningsAreRateLimited(t *testing.T) {
	var now atomic.Int64
	now.Store(int64(time.Hour))
	logs := &logRecorder{}
	g := &spec.Gateway{APIs: []spec.API{
		petstore(refusedURL(t), 0).APIs[0],
		listAPI(spec.TypeLoadBalance, nil, refusedURL(t), refusedURL(t)).APIs[0],
	}}
	gw := startGateway(t, g, Options{Logger: slog.New(logs), clock: now.Load})
	const msg = "backend request failed"
	for range 50 {
		if status, _ := call(t, "GET", gw.url+"/petstore/v1/pet/1", nil); status != 502 {
			t.Fatalf("got %d, want 502", status)
		}
	}
	if n := logs.count(slog.LevelWarn, msg); n != 1 {
		t.Fatalf("50 failures within one second: %d warnings, want 1", n)
	}
	// Another backend has its own allowance.
	call(t, "GET", gw.url+"/api/item", nil)
	if n := logs.count(slog.LevelWarn, msg); n != 2 {
		t.Fatalf("a second backend's first failure: %d warnings in all, want 2", n)
	}
	now.Add(int64(time.Second - 1))
	call(t, "GET", gw.url+"/petstore/v1/pet/1", nil)
	if n := logs.count(slog.LevelWarn, msg); n != 2 {
		t.Fatalf("just under a second later: %d warnings, want still 2", n)
	}
	now.Add(1)
	call(t, "GET", gw.url+"/petstore/v1/pet/1", nil)
	if n := logs.count(slog.LevelWarn, msg); n != 3 {
		t.Fatalf("a second later: %d warnings, want 3", n)
	}
	if got := logs.lastAttr(msg, "suppressed"); got != "50" {
		t.Errorf("the warning a second later counts %s failures left out, want 50", got)
	}
}
