package throttle

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// clock is an injected time source that tests move by hand.
type clock struct{ ns atomic.Int64 }

var clockBase = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *clock) Now() time.Time          { return clockBase.Add(time.Duration(c.ns.Load())) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newLocal(t testing.TB, c *clock, maxKeys int) *Limiter {
	t.Helper()
	l, err := New(Config{Clock: c.Now, MaxKeys: maxKeys})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustRate(t testing.TB, name string, count, unit int64, timeUnit string) *Rate {
	t.Helper()
	r, err := NewRate(spec.Policy{Name: name, Count: count, UnitTime: unit, TimeUnit: timeUnit})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLimitIsExactAtEveryWindowEdge walks each time unit's window edge with
// an injected clock: a full burst of Limit passes, the next request is
// refused with Retry-After of exactly one emission interval, one
// nanosecond early is still refused, and on time exactly one passes.
func TestLimitIsExactAtEveryWindowEdge(t *testing.T) {
	for _, tc := range []struct {
		count, unit int64
		timeUnit    string
		window      time.Duration
	}{
		{10, 1, "sec", time.Second},
		{7, 1, "min", time.Minute},
		{10000, 1, "min", time.Minute},
		{3, 2, "hour", 2 * time.Hour},
		{5, 1, "day", 24 * time.Hour},
	} {
		t.Run(fmt.Sprintf("%d per %d %s", tc.count, tc.unit, tc.timeUnit), func(t *testing.T) {
			c := &clock{}
			l := newLocal(t, c, 0)
			r := mustRate(t, "p", tc.count, tc.unit, tc.timeUnit)
			key := []byte("k")
			iv := (tc.window + time.Duration(tc.count) - 1) / time.Duration(tc.count)
			for i := int64(0); i < tc.count; i++ {
				d := l.Allow(key, r)
				if !d.Allowed || d.Remaining != tc.count-1-i || d.Limit != tc.count {
					t.Fatalf("request %d of the burst: %+v, want allowed with %d remaining", i+1, d, tc.count-1-i)
				}
			}
			d := l.Allow(key, r)
			if d.Allowed || d.RetryAfter != iv || d.Remaining != 0 {
				t.Fatalf("request over the burst: %+v, want refused with Retry-After %v", d, iv)
			}
			if d.Reset < tc.window || d.Reset > tc.window+time.Duration(tc.count) {
				t.Fatalf("Reset %v, want the window %v (rounded up per request)", d.Reset, tc.window)
			}
			c.Advance(iv - 1)
			if d := l.Allow(key, r); d.Allowed {
				t.Fatalf("one nanosecond before Retry-After: admitted %+v", d)
			}
			c.Advance(1)
			if d := l.Allow(key, r); !d.Allowed || d.Remaining != 0 {
				t.Fatalf("at Retry-After: %+v, want one admitted", d)
			}
			if d := l.Allow(key, r); d.Allowed {
				t.Fatalf("second request at Retry-After: admitted %+v", d)
			}
		})
	}
}

// TestNoDoubleBurstAcrossWindowEdge sends a full burst just before a
// window edge and another just after it: a fixed-window counter admits
// twice the limit here; the limiter admits the limit once.
func TestNoDoubleBurstAcrossWindowEdge(t *testing.T) {
	c := &clock{}
	l := newLocal(t, c, 0)
	r := mustRate(t, "10PerSec", 10, 1, "sec")
	key := []byte("edge")
	admitted := 0
	c.Advance(999 * time.Millisecond)
	for range 10 {
		if l.Allow(key, r).Allowed {
			admitted++
		}
	}
	c.Advance(2 * time.Millisecond) // 1.001s: past the edge of the first second
	for range 10 {
		if l.Allow(key, r).Allowed {
			admitted++
		}
	}
	if admitted != 10 {
		t.Fatalf("admitted %d across the window edge, want 10 (a fixed window would let 20 through)", admitted)
	}
}

// TestSteadyFloodIsBoundedInEveryInterval floods one key every millisecond
// for 10 s of injected time and checks GCRA's bound in every interval of
// 100 ms and 1 s: at most Limit + d/interval, and exactly Limit + 10 s ×
// rate in total.
func TestSteadyFloodIsBoundedInEveryInterval(t *testing.T) {
	c := &clock{}
	l := newLocal(t, c, 0)
	r := mustRate(t, "10PerSec", 10, 1, "sec")
	const steps = 10000 // 1 ms each
	var at []int        // ms of each admitted request
	for ms := range steps {
		if l.Allow([]byte("flood"), r).Allowed {
			at = append(at, ms)
		}
		c.Advance(time.Millisecond)
	}
	if want := 10 + (steps-1)/100; len(at) != want {
		t.Fatalf("admitted %d in 10 s, want %d (burst of 10, then one per 100 ms)", len(at), want)
	}
	for _, span := range []int{100, 1000} {
		bound := 10 + span/100
		for i := range at {
			n := 0
			for j := i; j < len(at) && at[j] < at[i]+span; j++ {
				n++
			}
			if n > bound {
				t.Fatalf("%d admitted in the %d ms from %d ms, more than %d", n, span, at[i], bound)
			}
		}
	}
}

// TestConcurrentRequestsAdmitExactlyTheLimit runs many goroutines on one
// key and on keys of their own with the clock stopped: each key admits
// exactly its limit, however the compare-and-swaps interleave. Run with
// -race.
func TestConcurrentRequestsAdmitExactlyTheLimit(t *testing.T) {
	c := &clock{}
	l := newLocal(t, c, 0)
	r := mustRate(t, "500PerMin", 500, 1, "min")
	const workers, each = 8, 400
	var shared atomic.Int64
	own := make([]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := []byte(fmt.Sprintf("own-%d", w))
			for range each {
				if l.Allow([]byte("shared"), r).Allowed {
					shared.Add(1)
				}
				if l.Allow(mine, r).Allowed {
					own[w]++
				}
			}
		}()
	}
	wg.Wait()
	if shared.Load() != 500 {
		t.Fatalf("shared key admitted %d of %d, want exactly 500", shared.Load(), workers*each)
	}
	for w, n := range own {
		if n != each { // 400 < 500: all pass
			t.Fatalf("worker %d's own key admitted %d of %d", w, n, each)
		}
	}
}

// TestUnlimitedAdmitsWithoutHeaders: a nil rate is Unlimited.
func TestUnlimitedAdmitsWithoutHeaders(t *testing.T) {
	l := newLocal(t, &clock{}, 0)
	ps, err := CompilePolicies(spec.Policies{})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := ps.Resource(spec.Unlimited)
	if !ok || r != nil {
		t.Fatalf("Unlimited is %v, %v; want defined and nil", r, ok)
	}
	if d := l.Allow([]byte("k"), r); !d.Allowed || d.Limit != 0 {
		t.Fatalf("Unlimited: %+v", d)
	}
}

// TestPolicyThatLimitsNothingIsRefused: a count of 0 or an unknown time
// unit is an error naming the policy.
func TestPolicyThatLimitsNothingIsRefused(t *testing.T) {
	for _, p := range []spec.Policy{
		{Name: "zero", Count: 0, UnitTime: 1, TimeUnit: "min"},
		{Name: "fortnight", Count: 5, UnitTime: 1, TimeUnit: "fortnight"},
	} {
		_, err := CompilePolicies(spec.Policies{Application: []spec.Policy{p}})
		if err == nil {
			t.Fatalf("%+v compiled", p)
		}
		if want := fmt.Sprintf("applicationPolicies: throttling policy %q", p.Name); len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Fatalf("error %q does not start with %q", err, want)
		}
	}
}

// TestAllowAllocatesNothingForAKeyHeld guards the hot path.
func TestAllowAllocatesNothingForAKeyHeld(t *testing.T) {
	c := &clock{}
	l := newLocal(t, c, 0)
	r := mustRate(t, "big", 1<<40, 1, "sec")
	key := []byte("192.0.2.1")
	l.Allow(key, r)
	if n := testing.AllocsPerRun(1000, func() { l.Allow(key, r) }); n != 0 {
		t.Fatalf("Allow allocates %v times per call for a key held", n)
	}
}
