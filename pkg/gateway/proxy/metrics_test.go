package proxy

import (
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// TestRetriesAndOpenBreakerShowInMetrics protects the backend metrics of
// the exchange: every attempt and every retry is counted against the URL,
// each 503 answer as a 5xx error, and an open circuit breaker shows as
// state 1 under its endpoint list.
func TestRetriesAndOpenBreakerShowInMetrics(t *testing.T) {
	be := startBackend(t, "busy", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	adv := breakerConfig(3, 0.5, 60000, 503)
	adv.Retry = retryConfig(2, 503).Retry
	m := metrics.New()
	gw := startGateway(t, listAPI(spec.TypeHTTP, adv, be.URL()), Options{Metrics: m})
	m.ObserveProxy(gw.p)
	if status, _ := call(t, "GET", gw.url+"/api/item", nil); status != 503 {
		t.Fatalf("got %d, want the backend's 503 after the retries", status)
	}
	if status, _ := call(t, "GET", gw.url+"/api/item", nil); status != 503 || be.hits.Load() != 3 {
		t.Fatalf("got %d after %d backend calls; want the open breaker's 503 after 3", status, be.hits.Load())
	}
	fams := gatherAll(t, m)
	url := map[string]string{"url": be.URL()}
	for name, want := range map[string]float64{"microgw_backend_requests_total": 3, "microgw_backend_retries_total": 2} {
		if got := seriesValue(t, fams, name, url); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := seriesValue(t, fams, "microgw_backend_errors_total", map[string]string{"url": be.URL(), "kind": "5xx"}); got != 3 {
		t.Errorf("5xx errors %v, want 3", got)
	}
	if got := seriesValue(t, fams, "microgw_circuit_breaker_state", map[string]string{"endpoints": be.URL()}); got != 1 {
		t.Errorf("breaker state %v, want 1 (open)", got)
	}
	if got := seriesValue(t, fams, "microgw_requests_total", map[string]string{"api": "list", "resource": "/api/item", "method": "GET", "class": "5xx"}); got != 2 {
		t.Errorf("5xx requests %v, want 2", got)
	}
}

func gatherAll(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// seriesValue is the value of the counter or gauge of family name whose
// labels are exactly labels.
func seriesValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
next:
	for _, s := range fams[name].GetMetric() {
		if len(s.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range s.GetLabel() {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		if c := s.GetCounter(); c != nil {
			return c.GetValue()
		}
		return s.GetGauge().GetValue()
	}
	t.Fatalf("no series %s%v in %v", name, labels, fams[name])
	return 0
}
