package discovery

import (
	"context"
	"io"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
)

// BenchmarkPropagation measures the time from the start of an etcd put to
// the Binding routing to the new URL, through the watch (the timer is far
// off). It reports the median and p99 of b.N changes:
//
//	go test -run '^$' -bench Propagation -benchtime 300x ./pkg/gateway/discovery/
func BenchmarkPropagation(b *testing.B) {
	e, err := devetcd.Start(context.Background(), devetcd.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL()}, DialTimeout: wait})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	def, err := endpoint.Parse(defA)
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(Options{Endpoints: []string{e.ClientURL()}, Timer: time.Hour, StartupTimeout: wait, Logger: newLogger(io.Discard)},
		map[string]*endpoint.Target{"bench": def})
	if err != nil {
		b.Fatal(err)
	}
	r.Start(context.Background())
	defer r.Close()
	bind := r.Binding("bench")

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		u := "http://10.0.0.1/v" + strconv.Itoa(i)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		start := time.Now()
		if _, err := cli.Put(ctx, "bench", u); err != nil {
			b.Fatal(err)
		}
		cancel()
		for bind.Load().Raw != u {
			if time.Since(start) > wait {
				b.Fatalf("change %d not routed within %v", i, wait)
			}
			runtime.Gosched()
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
