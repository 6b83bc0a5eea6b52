package throttle

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
	"github.com/valyala/fasthttp"
)

func perMin(name string, n int64) spec.Policy {
	return spec.Policy{Name: name, Count: n, UnitTime: 1, TimeUnit: "min"}
}

func testPolicies(t *testing.T) *Policies {
	t.Helper()
	ps, err := CompilePolicies(spec.Policies{
		Resource:     []spec.Policy{perMin("res2", 2), perMin("api3", 3), perMin("big", 1000)},
		Application:  []spec.Policy{perMin("app1", 1), perMin("app100", 100)},
		Subscription: []spec.Policy{perMin("Gold", 50), perMin("Bronze", 2), perMin("Unauthenticated", 2)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func mustPlan(t *testing.T, l *Limiter, ps *Policies, rt Route) *Plan {
	t.Helper()
	p, err := l.Plan(ps, rt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPlanRefusesInMicroGWOrder: each tier refuses with its own code, in
// micro-gw 3.x's order: resource 900802, API 900800, subscription 900804,
// application 900803.
func TestPlanRefusesInMicroGWOrder(t *testing.T) {
	ps := testPolicies(t)
	for _, tc := range []struct {
		name  string
		rt    Route
		c     Caller
		first int // requests admitted before the refusal
		want  *fault.Fault
	}{
		{"resource", Route{API: "A:1", Resource: "GET /r", ResourceTier: "res2", APITier: "api3"}, Caller{AppID: "x", AppTier: "app100", SubscriptionTier: "Gold"}, 2, fault.ResourceThrottled},
		{"api", Route{API: "A:1", Resource: "GET /r", ResourceTier: "big", APITier: "api3"}, Caller{AppID: "x", AppTier: "app100", SubscriptionTier: "Gold"}, 3, fault.APIThrottled},
		{"subscription", Route{API: "A:1", Resource: "GET /r", ResourceTier: "big", APITier: "big"}, Caller{AppID: "x", AppTier: "app100", SubscriptionTier: "Bronze"}, 2, fault.SubscriptionThrottled},
		{"application", Route{API: "A:1", Resource: "GET /r", ResourceTier: "big", APITier: "big"}, Caller{AppID: "x", AppTier: "app1", SubscriptionTier: "Gold"}, 1, fault.ApplicationThrottled},
		{"unauthenticated per client IP", Route{API: "A:1", Resource: "GET /r", Open: true}, Caller{ClientIP: net.IPv4(192, 0, 2, 1).To4()}, 2, fault.SubscriptionThrottled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, &clock{}, 0)
			p := mustPlan(t, l, ps, tc.rt)
			for i := range tc.first {
				if d, f := p.Check(&tc.c); f != nil || !d.Allowed {
					t.Fatalf("request %d: %+v %v, want admitted", i+1, d, f)
				}
			}
			d, f := p.Check(&tc.c)
			if f != tc.want || d.Allowed || d.RetryAfter <= 0 {
				t.Fatalf("request %d: %+v %v, want %d with a Retry-After", tc.first+1, d, f, tc.want.Code)
			}
		})
	}
}

// TestRefusedRequestDoesNotEatSharedLimits: an application over its own
// tier is refused after the resource and API tiers admitted it; those
// counts are given back, so other applications still get the API's whole
// limit.
func TestRefusedRequestDoesNotEatSharedLimits(t *testing.T) {
	l := newLocal(t, &clock{}, 0)
	p := mustPlan(t, l, testPolicies(t), Route{API: "A:1", Resource: "GET /r", APITier: "api3"})
	greedy := Caller{AppID: "greedy", AppTier: "app1"}
	if _, f := p.Check(&greedy); f != nil {
		t.Fatalf("greedy's first request: %v", f)
	}
	for range 5 {
		if _, f := p.Check(&greedy); f != fault.ApplicationThrottled {
			t.Fatalf("greedy over its tier: %v, want 900803", f)
		}
	}
	for _, app := range []string{"b", "c"} {
		if d, f := p.Check(&Caller{AppID: app, AppTier: "app100"}); f != nil {
			t.Fatalf("app %s refused (%v, %+v): greedy's refused requests ate the API's limit", app, f, d)
		}
	}
	if _, f := p.Check(&Caller{AppID: "d", AppTier: "app100"}); f != fault.APIThrottled {
		t.Fatalf("fourth request on a 3/min API: %v, want 900800", f)
	}
}

// TestUnknownTokenTierAnswers900809: a token naming a tier policies.yaml
// does not define is refused as micro-gw 3.x did, and counts nothing.
func TestUnknownTokenTierAnswers900809(t *testing.T) {
	l := newLocal(t, &clock{}, 0)
	p := mustPlan(t, l, testPolicies(t), Route{API: "A:1", Resource: "GET /r", APITier: "api3"})
	for _, c := range []Caller{{AppID: "x", SubscriptionTier: "Platinum"}, {AppID: "x", AppTier: "Diamond"}} {
		for range 4 {
			if _, f := p.Check(&c); f != fault.PolicyNotFound {
				t.Fatalf("%+v: %v, want 900809", c, f)
			}
		}
	}
	if _, f := p.Check(&Caller{AppID: "y"}); f != nil {
		t.Fatalf("a good caller after refused ones: %v; the refusals counted against the API tier", f)
	}
}

// TestPlanRefusesUndefinedRouteTier: a route naming an undefined tier does
// not compile (the build should have said so first).
func TestPlanRefusesUndefinedRouteTier(t *testing.T) {
	l := newLocal(t, &clock{}, 0)
	_, err := l.Plan(testPolicies(t), Route{API: "A:1", Resource: "GET /r", ResourceTier: "nope"})
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("err = %v, want one naming the tier", err)
	}
}

// TestHeadersShowTheTightestTier: with every tier admitting, the headers
// show the tier closest to its limit.
func TestHeadersShowTheTightestTier(t *testing.T) {
	l := newLocal(t, &clock{}, 0)
	p := mustPlan(t, l, testPolicies(t), Route{API: "A:1", Resource: "GET /r", ResourceTier: "big", APITier: "api3"})
	d, f := p.Check(&Caller{AppID: "x", AppTier: "app100", SubscriptionTier: "Gold"})
	if f != nil || d.Limit != 3 || d.Remaining != 2 {
		t.Fatalf("%+v %v, want the API tier's 3 with 2 remaining", d, f)
	}
	var h fasthttp.ResponseHeader
	WriteHeaders(&h, d)
	if got := string(h.Peek("RateLimit-Limit")) + " " + string(h.Peek("RateLimit-Remaining")) + " " + string(h.Peek("RateLimit-Reset")); got != "3 2 20" {
		t.Fatalf("headers %q, want \"3 2 20\" (a 3/min policy recovers one request per 20 s)", got)
	}
	if len(h.Peek("Retry-After")) != 0 {
		t.Fatal("Retry-After on an admitted request")
	}
	// A backend's own RateLimit header is replaced, not doubled.
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nRateLimit-Limit: 999\r\nContent-Length: 0\r\n\r\n"))); err != nil {
		t.Fatal(err)
	}
	WriteHeaders(&resp.Header, d)
	if n := strings.Count(strings.ToLower(resp.Header.String()), "ratelimit-limit:"); n != 1 || string(resp.Header.Peek("RateLimit-Limit")) != "3" {
		t.Fatalf("after WriteHeaders on a backend's RateLimit-Limit: %d such headers, value %q; want one, 3", n, resp.Header.Peek("RateLimit-Limit"))
	}
}

// TestRefusalCarriesRetryAfter: a 429's headers say when to come back,
// rounded up to whole seconds.
func TestRefusalCarriesRetryAfter(t *testing.T) {
	l := newLocal(t, &clock{}, 0)
	r := mustRate(t, "7PerMin", 7, 1, "min")
	for range 7 {
		l.AllowString("k", r)
	}
	d := l.AllowString("k", r)
	var h fasthttp.ResponseHeader
	WriteHeaders(&h, d)
	// 60 s / 7 = 8.57 s: Retry-After 9; the full window back: 60.
	for name, want := range map[string]string{"RateLimit-Limit": "7", "RateLimit-Remaining": "0", "RateLimit-Reset": "60", "Retry-After": "9"} {
		if got := string(h.Peek(name)); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// TestCheckAndHeadersAllocateNothing guards the hot path: a route with all
// four tiers, callers already held.
func TestCheckAndHeadersAllocateNothing(t *testing.T) {
	ps, err := CompilePolicies(spec.Policies{
		Resource:     []spec.Policy{{Name: "huge", Count: 1 << 40, UnitTime: 1, TimeUnit: "sec"}},
		Application:  []spec.Policy{{Name: "huge", Count: 1 << 40, UnitTime: 1, TimeUnit: "sec"}},
		Subscription: []spec.Policy{{Name: "huge", Count: 1 << 40, UnitTime: 1, TimeUnit: "sec"}, {Name: "Unauthenticated", Count: 1 << 40, UnitTime: 1, TimeUnit: "sec"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := newLocal(t, &clock{}, 0)
	p := mustPlan(t, l, ps, Route{API: "A:1", Resource: "GET /r", ResourceTier: "huge", APITier: "huge"})
	open := mustPlan(t, l, ps, Route{API: "A:1", Resource: "GET /o", Open: true})
	c := &Caller{AppID: "app-0123456789", AppTier: "huge", SubscriptionTier: "huge"}
	anon := &Caller{ClientIP: net.IPv4(192, 0, 2, 7).To4()}
	var h fasthttp.ResponseHeader
	run := func() {
		d, _ := p.Check(c)
		WriteHeaders(&h, d)
		d, _ = open.Check(anon)
		WriteHeaders(&h, d)
	}
	run()
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Fatalf("Check and WriteHeaders allocate %v times per request", n)
	}
}

// TestIPv6ClientsCountedPerSlash64 protects the per-address limit of open
// routes from a client that rotates through its IPv6 prefix: one host
// holds a whole /64, so addresses in one /64 share a count; another /64,
// and every IPv4 address, count apart.
func TestIPv6ClientsCountedPerSlash64(t *testing.T) {
	l := newLocal(t, &clock{}, 0)
	p := mustPlan(t, l, testPolicies(t), Route{API: "A:1", Resource: "GET /r", Open: true})
	ip := func(s string) []byte { return net.ParseIP(s) }
	for i, a := range []string{"2001:db8:1:2::1", "2001:db8:1:2::ffff"} { // Unauthenticated: 2
		if _, f := p.Check(&Caller{ClientIP: ip(a)}); f != nil {
			t.Fatalf("request %d from %s refused: %v", i+1, a, f)
		}
	}
	if _, f := p.Check(&Caller{ClientIP: ip("2001:db8:1:2:abcd::9")}); f != fault.SubscriptionThrottled {
		t.Fatalf("a third address of the same /64: %v, want 900804", f)
	}
	if _, f := p.Check(&Caller{ClientIP: ip("2001:db8:1:3::1")}); f != nil {
		t.Fatalf("another /64 refused: %v", f)
	}
	if _, f := p.Check(&Caller{ClientIP: net.IPv4(192, 0, 2, 1)}); f != nil {
		t.Fatalf("an IPv4 address (16-byte form) refused: %v", f)
	}
}
