package metrics

import (
	"context"
	"log/slog"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
)

// TestEtcdPutMovesTheEndpointInfoMetric protects the discovery metrics
// against a real etcd: a put replaces the key's info series (the old URL's
// is gone), counts a watch change, an unusable value counts a rejection
// and leaves the info alone, and the connection is reported up with a
// recent last contact.
func TestEtcdPutMovesTheEndpointInfoMetric(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	srv, err := devetcd.Start(context.Background(), devetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	def, err := endpoint.Parse("http://127.0.0.1:8081/v2")
	if err != nil {
		t.Fatal(err)
	}
	m := New()
	r, err := discovery.New(discovery.Options{Endpoints: []string{srv.ClientURL()}, Observer: m.DiscoveryObserver(),
		Logger: slog.New(slog.DiscardHandler)}, map[string]*endpoint.Target{"petstore": def})
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveDiscovery(r.Status)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.Start(ctx)
	defer r.Close()

	info := func(fams map[string]*dto.MetricFamily) []string {
		var urls []string
		for _, s := range fams["microgw_discovery_endpoint_info"].GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "url" {
					urls = append(urls, l.GetValue())
				}
			}
		}
		return urls
	}
	fams := eventually(t, m, "etcd connected", func(f map[string]*dto.MetricFamily) bool {
		return len(f["microgw_etcd_connected"].GetMetric()) == 1 && f["microgw_etcd_connected"].GetMetric()[0].GetGauge().GetValue() == 1
	})
	if got := info(fams); len(got) != 1 || got[0] != def.Raw {
		t.Fatalf("info before the put: %v, want [%s]", got, def.Raw)
	}
	if last := value(t, fams, "microgw_etcd_last_contact_timestamp_seconds", nil); time.Since(time.Unix(int64(last), 0)) > time.Minute {
		t.Errorf("last contact %v is not recent", last)
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.ClientURL()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	const next = "http://127.0.0.2:9000/v3"
	if _, err := cli.Put(ctx, "petstore", next); err != nil {
		t.Fatal(err)
	}
	fams = eventually(t, m, "the info metric to follow the put", func(f map[string]*dto.MetricFamily) bool {
		u := info(f)
		return len(u) == 1 && u[0] == next
	})
	if got := value(t, fams, "microgw_discovery_changes_total", map[string]string{"key": "petstore", "source": "watch"}); got != 1 {
		t.Errorf("watch changes %v, want 1", got)
	}
	if _, err := cli.Put(ctx, "petstore", "ftp://nope"); err != nil {
		t.Fatal(err)
	}
	fams = eventually(t, m, "the rejected value to be counted", func(f map[string]*dto.MetricFamily) bool {
		return len(f["microgw_discovery_rejected_values_total"].GetMetric()) == 1
	})
	if got := value(t, fams, "microgw_discovery_rejected_values_total", map[string]string{"key": "petstore"}); got != 1 {
		t.Errorf("rejected %v, want 1", got)
	}
	if u := info(fams); len(u) != 1 || u[0] != next {
		t.Errorf("an unusable value moved the info metric: %v", u)
	}
}

// eventually gathers m until ok holds, for at most 10 s.
func eventually(t *testing.T, m *Metrics, what string, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f := gather(t, m.Gatherer())
		if ok(f) {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
