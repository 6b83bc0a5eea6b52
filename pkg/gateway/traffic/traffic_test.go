package traffic

import (
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// base is a time at the start of a bucket.
var base = time.Unix(1_700_000_000, 0)

// TestMeterCountsRequestsAndErrorsPerTenSecondBucket: each request lands in
// the bucket of its time, 5xx answers count as errors too, and the
// snapshot lists the last 30 buckets oldest first, the current one last.
func TestMeterCountsRequestsAndErrorsPerTenSecondBucket(t *testing.T) {
	var m Meter
	m.Observe(base, 200)
	m.Observe(base.Add(9*time.Second), 503)
	m.Observe(base.Add(10*time.Second), 404)
	m.Observe(base.Add(25*time.Second), 502)
	now := base.Add(29 * time.Second)
	s := m.Snapshot(now)
	if len(s.Requests) != Buckets || len(s.Errors) != Buckets || s.BucketSeconds != 10 {
		t.Fatalf("snapshot shape: %d requests, %d errors, %d s buckets", len(s.Requests), len(s.Errors), s.BucketSeconds)
	}
	if want := base.Add(20*time.Second - (Buckets-1)*Bucket); !s.Start.Equal(want) {
		t.Errorf("start %v, want %v", s.Start, want)
	}
	tail := func(xs []uint64) []uint64 { return xs[Buckets-3:] }
	if got := tail(s.Requests); got[0] != 2 || got[1] != 1 || got[2] != 1 {
		t.Errorf("requests of the last three buckets: %v, want [2 1 1]", got)
	}
	if got := tail(s.Errors); got[0] != 1 || got[1] != 0 || got[2] != 1 {
		t.Errorf("errors of the last three buckets: %v, want [1 0 1]", got)
	}
	for i, n := range s.Requests[:Buckets-3] {
		if n != 0 {
			t.Errorf("bucket %d counts %d requests, none were made then", i, n)
		}
	}
}

// TestMeterForgetsBucketsOlderThanTheWindow: a slot reused five minutes
// later starts from zero, and a snapshot never shows counts from outside
// its window even when no request has reused their slots.
func TestMeterForgetsBucketsOlderThanTheWindow(t *testing.T) {
	var m Meter
	for range 7 {
		m.Observe(base, 500)
	}
	later := base.Add(Buckets * Bucket) // the same slot, one window on
	if s := m.Snapshot(later); sum(s.Requests) != 0 || sum(s.Errors) != 0 {
		t.Errorf("five minutes on, snapshot still counts %d requests, %d errors", sum(s.Requests), sum(s.Errors))
	}
	m.Observe(later, 200)
	s := m.Snapshot(later)
	if s.Requests[Buckets-1] != 1 || s.Errors[Buckets-1] != 0 {
		t.Errorf("reused slot: %d requests, %d errors, want 1 and 0", s.Requests[Buckets-1], s.Errors[Buckets-1])
	}
	// A request that began before the slot was reused is too old to count.
	m.Observe(base, 500)
	if s := m.Snapshot(later); s.Requests[Buckets-1] != 1 || sum(s.Errors) != 0 {
		t.Errorf("a request from the old window changed the new one: %v %v", s.Requests, s.Errors)
	}
}

// TestMeterCountsConcurrentRequestsExactly: the lock-free counters lose no
// request when many goroutines count into the same bucket and across a
// bucket reset.
func TestMeterCountsConcurrentRequestsExactly(t *testing.T) {
	var m Meter
	m.Observe(base.Add(-Buckets*Bucket), 500) // stale count in the slot to reset
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				status := 200
				if (w+i)%4 == 0 {
					status = 500
				}
				m.Observe(base, status)
			}
		})
	}
	wg.Wait()
	s := m.Snapshot(base)
	if got := s.Requests[Buckets-1]; got != workers*each {
		t.Errorf("counted %d requests, made %d", got, workers*each)
	}
	if got := s.Errors[Buckets-1]; got != workers*each/4 {
		t.Errorf("counted %d errors, made %d", got, workers*each/4)
	}
}

// TestNilMeterCountsNothing: a route without a Meter (counting off, or an
// API index out of range) can call it without a check.
func TestNilMeterCountsNothing(t *testing.T) {
	var r *Registry
	m := r.API(0)
	if m != nil {
		t.Fatal("nil registry gave a meter")
	}
	m.Observe(base, 500)
	m.Done(&fasthttp.RequestCtx{})
	if s := m.Snapshot(base); len(s.Requests) != Buckets || sum(s.Requests) != 0 {
		t.Errorf("nil meter snapshot: %+v", s)
	}
	if New(2).API(2) != nil || New(2).API(-1) != nil {
		t.Error("out-of-range API index gave a meter")
	}
}

// TestMeterDoneAllocatesNothing: counting is on the proxy's request path,
// which allocates nothing.
func TestMeterDoneAllocatesNothing(t *testing.T) {
	m := New(1).API(0)
	var ctx fasthttp.RequestCtx
	ctx.Response.SetStatusCode(502)
	if n := testing.AllocsPerRun(1000, func() { m.Done(&ctx) }); n != 0 {
		t.Errorf("Done allocates %v times per request, want 0", n)
	}
	if s := m.Snapshot(ctx.Time()); sum(s.Errors) == 0 {
		t.Error("Done did not count the 502 as an error")
	}
}

func sum(xs []uint64) (n uint64) {
	for _, x := range xs {
		n += x
	}
	return n
}
