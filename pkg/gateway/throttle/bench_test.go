package throttle

import (
	"net"
	"testing"

	"github.com/micro-gw/micro-gw/internal/redistest"
	"github.com/micro-gw/micro-gw/pkg/spec"
	"github.com/valyala/fasthttp"
)

// BenchmarkAllowLocal: one key held, every goroutine on it (the API tier's
// case: all callers share it). 0 allocs/op.
func BenchmarkAllowLocal(b *testing.B) {
	l, _ := New(Config{})
	r := mustRate(b, "huge", 1<<40, 1, "sec")
	key := []byte("a\x00PetStore:1.0.0")
	l.Allow(key, r)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow(key, r)
		}
	})
}

// BenchmarkPlanCheck: a route with resource, API, subscription and
// application tiers, plus the headers: what the proxy's guard pays.
func BenchmarkPlanCheck(b *testing.B) {
	huge := spec.Policy{Name: "huge", Count: 1 << 40, UnitTime: 1, TimeUnit: "sec"}
	ps, _ := CompilePolicies(spec.Policies{Resource: []spec.Policy{huge}, Application: []spec.Policy{huge}, Subscription: []spec.Policy{huge}})
	l, _ := New(Config{})
	p, _ := l.Plan(ps, Route{API: "PetStore:1.0.0", Resource: "GET /pets/{id}", ResourceTier: "huge", APITier: "huge"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := &Caller{AppID: "app-1", AppTier: "huge", SubscriptionTier: "huge", ClientIP: net.IPv4(192, 0, 2, 1).To4()}
		var h fasthttp.ResponseHeader
		for pb.Next() {
			d, _ := p.Check(c)
			WriteHeaders(&h, d)
		}
	})
}

// BenchmarkAllowRedisBatched: one key counted in a real redis-server with
// a limit far above the load; reports the round trips per 1000 admitted.
func BenchmarkAllowRedisBatched(b *testing.B) {
	rs := redistest.Start(b)
	l, err := New(Config{Redis: &RedisConfig{URL: rs.URL()}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := mustRate(b, "huge", 1<<40, 1, "sec")
	l.AllowString("api", r)
	before := l.Status().RedisRoundTrips
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.AllowString("api", r)
		}
	})
	b.ReportMetric(float64(l.Status().RedisRoundTrips-before)*1000/float64(b.N), "trips/1000req")
}
