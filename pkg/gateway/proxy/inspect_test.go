package proxy

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// serveProxy serves p on loopback until the test ends and returns its URL.
func serveProxy(t *testing.T, p *Proxy) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.NewServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(Listener(ln)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		srv.ShutdownWithContext(ctx) //nolint:errcheck // the test is over
		<-done
		p.Close()
	})
	return "http://" + ln.Addr().String()
}

// TestEndpointsReportsDownURLAndOpenBreaker: the admin listener shows which
// URL of a list is skipped as down and when its circuit breaker opened;
// Endpoints reads both from the running proxy, once per list however many
// routes share it.
func TestEndpointsReportsDownURLAndOpenBreaker(t *testing.T) {
	alive := startBackend(t, "alive", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	dead := startBackend(t, "dead", nil)
	dead.stop() // connections refused
	g := listAPI(spec.TypeFailover, breakerConfig(2, 0.5, 60000, 500), dead.URL(), alive.URL())
	p, err := New(servedOpen(g), staticBind, Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := p.Endpoints()
	if len(before) != 1 || before[0].Routes != 2 || len(before[0].Members) != 2 || before[0].Breaker == nil {
		t.Fatalf("before any request: %+v, want one list used by 2 routes with 2 members and a breaker", before)
	}
	for _, m := range before[0].Members {
		if !m.Up {
			t.Errorf("member %s down before any request", m.URL)
		}
	}
	if b := before[0].Breaker; b.State != "closed" || !b.OpenedAt.IsZero() || b.ResetSeconds != 60 {
		t.Errorf("breaker before any request: %+v, want closed, never opened, 60 s reset", b)
	}

	url := serveProxy(t, p) + "/api/item"
	start := time.Now()
	// Each attempt counts with the breaker: the refused connection, then
	// the live backend's 500, open it at once.
	if status, _ := call(t, "GET", url, nil); status != 500 {
		t.Fatalf("got %d, want the live backend's 500 after failing over", status)
	}
	if status, _ := call(t, "GET", url, nil); status != 503 {
		t.Fatalf("got %d, want the open breaker's 503", status)
	}
	after := p.Endpoints()[0]
	byURL := map[string]MemberStatus{}
	for _, m := range after.Members {
		byURL[m.URL] = m
	}
	if m := byURL[dead.URL()]; m.Up || m.Failures < 1 || !m.DownUntil.After(start) {
		t.Errorf("refusing URL: %+v, want down with a failure and a time it is skipped until", m)
	}
	if m := byURL[alive.URL()]; !m.Up {
		t.Errorf("answering URL: %+v, want up (a 500 is an answer)", m)
	}
	if b := after.Breaker; b.State != "open" || b.OpenedAt.Before(start.Add(-time.Second)) || b.OpenedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("breaker after 2 failed attempts of 2: %+v, want open since the first request", b)
	}
}

// TestEndpointsSkipsListsOfNoRoute: a resource without endpoints has no
// list to report, and the report of a gateway without lists is empty.
func TestEndpointsSkipsListsOfNoRoute(t *testing.T) {
	g := &spec.Gateway{APIs: []spec.API{{Title: "none", BasePath: "/n", Resources: []spec.Resource{{Path: "/x", Method: "GET"}}}}}
	p, err := New(servedOpen(g), staticBind, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e := p.Endpoints(); len(e) != 0 {
		t.Errorf("Endpoints of a gateway with no endpoint list: %+v", e)
	}
}
