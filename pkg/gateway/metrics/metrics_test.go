package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// TestRecordingARequestAllocatesNothing protects the hot path: once a
// route's and a backend's children are resolved, recording a request,
// a backend attempt, an auth failure or a throttled request allocates
// nothing.
func TestRecordingARequestAllocatesNothing(t *testing.T) {
	m := New()
	r := m.Route("PetStore", "/pet/{petId}", "GET")
	b := m.Backend("http://127.0.0.1:8081/v2")
	allocs := testing.AllocsPerRun(1000, func() {
		b.Attempt()
		b.Answered(503)
		b.Failed(TimeoutError)
		b.Retry()
		r.Done(200, 3*time.Millisecond, 2*time.Millisecond, 10, 1024)
		r.Done(503, time.Millisecond, 0, -1, 0)
		r.AuthFailed(fault.InvalidCredentials)
		r.Throttled(fault.APIThrottled)
	})
	if allocs != 0 {
		t.Fatalf("recording allocates %v times per request; resolve children when building routes", allocs)
	}
}

// TestMetricsOffIsNilSafe protects the "off" setting: a nil Metrics hands
// out nil routes and backends whose methods do nothing.
func TestMetricsOffIsNilSafe(t *testing.T) {
	var m *Metrics
	r := m.Route("a", "/b", "GET")
	b := m.Backend("http://x")
	if r != nil || b != nil || m.Handler() != nil || m.DiscoveryObserver() != nil {
		t.Fatal("a nil Metrics must hand out nil values")
	}
	r.Done(200, time.Millisecond, 0, 1, 1)
	r.AuthFailed(fault.TokenExpired)
	r.Throttled(fault.ResourceThrottled)
	b.Attempt()
	b.Failed(ConnectError)
	b.Answered(500)
	b.Retry()
	m.ObserveProxy(nil)
	m.ObserveDiscovery(nil)
	if allocs := testing.AllocsPerRun(100, func() { r.Done(200, time.Millisecond, 0, 1, 1) }); allocs != 0 {
		t.Fatalf("metrics off allocates %v", allocs)
	}
}

// TestRequestCountedByClassWithRouteLabels checks that Done lands in the
// right status class, that gateway time is total minus backend time, and
// that auth and throttle faults land on their code and tier.
func TestRequestCountedByClassWithRouteLabels(t *testing.T) {
	m := New()
	r := m.Route("PetStore", "/pet/{petId}", "GET")
	r.Done(201, 5*time.Millisecond, 4*time.Millisecond, 7, 11)
	r.Done(404, time.Millisecond, 0, 0, 3)
	r.Done(404, time.Millisecond, 0, 0, 3)
	r.AuthFailed(fault.ClientCertRequired) // shares 900901 with InvalidCredentials
	r.AuthFailed(fault.InvalidCredentials)
	r.Throttled(fault.SubscriptionThrottled)
	fams := gather(t, m.Gatherer())
	route := map[string]string{"api": "PetStore", "resource": "/pet/{petId}", "method": "GET"}
	for class, want := range map[string]float64{"2xx": 1, "4xx": 2, "5xx": 0} {
		if got := value(t, fams, "microgw_requests_total", with(route, "class", class)); got != want {
			t.Errorf("class %s: %v, want %v", class, got, want)
		}
	}
	if got := value(t, fams, "microgw_request_body_bytes_total", route); got != 7 {
		t.Errorf("bytes in %v, want 7", got)
	}
	if got := value(t, fams, "microgw_response_body_bytes_total", route); got != 17 {
		t.Errorf("bytes out %v, want 17", got)
	}
	g := metric(t, fams, "microgw_request_gateway_duration_seconds", route).GetHistogram()
	if g.GetSampleCount() != 3 || !near(g.GetSampleSum(), 0.003) {
		t.Errorf("gateway time: %d samples summing %v, want 3 summing 0.003", g.GetSampleCount(), g.GetSampleSum())
	}
	bk := metric(t, fams, "microgw_request_backend_duration_seconds", route).GetHistogram()
	if bk.GetSampleCount() != 1 || !near(bk.GetSampleSum(), 0.004) {
		t.Errorf("backend time: %d samples summing %v, want 1 summing 0.004", bk.GetSampleCount(), bk.GetSampleSum())
	}
	if got := value(t, fams, "microgw_auth_failures_total", map[string]string{"api": "PetStore", "code": "900901"}); got != 2 {
		t.Errorf("auth failures 900901: %v, want 2", got)
	}
	if got := value(t, fams, "microgw_throttled_requests_total", map[string]string{"api": "PetStore", "tier": "subscription"}); got != 1 {
		t.Errorf("throttled subscription: %v, want 1", got)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func with(labels map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range labels {
		out[a] = b
	}
	return out
}

func gather(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// metric returns the series of family name whose labels are exactly labels.
func metric(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no series %s%v", name, labels)
	return nil
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m := metric(t, fams, name, labels)
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// BenchmarkRecordRequest is what metrics add to one proxied request: the
// backend's attempt and answer, the route's Done, and the two clock
// readings the exchange takes for backend time.
func BenchmarkRecordRequest(b *testing.B) {
	m := New()
	r := m.Route("PetStore", "/pet/{petId}", "GET")
	bk := m.Backend("http://127.0.0.1:8081/v2")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bk.Attempt()
			sent := time.Now()
			bk.Answered(200)
			backend := time.Since(sent)
			r.Done(200, 3*time.Millisecond, backend, 0, 1024)
		}
	})
}
