package proxy

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
	"github.com/valyala/fasthttp"
)

// circuitOpen answers requests while a circuit breaker is open. micro-gw
// reported every failure to reach the back end as 101503 "Runtime Error";
// the status is 503, the description says why.
var circuitOpen = fault.New(503, 101503, "Runtime Error", "The back end is unavailable: its circuit breaker is open, so requests are suspended for a while")

// Breaker states.
const (
	closed int32 = iota
	open
	halfOpen
)

// Defaults for a circuitBreaker that leaves the rolling window out
// (Ballerina's, which micro-gw used).
const (
	defaultWindow = 60 * time.Second
	defaultBucket = 10 * time.Second
	// maxBuckets bounds the work of one evaluation.
	maxBuckets = 600
)

// breaker is advanceEndpointConfig.circuitBreaker for one endpoint list.
//
// Closed, it lets every request through and counts outcomes in a rolling
// window of buckets; when the window holds at least volume requests, at
// least one failed, and the failed share reaches threshold, it opens. Open,
// it answers 503 without calling the backend; after reset, the first request
// is let through as a trial (half-open) while the others still get 503: the
// trial's success closes the breaker, its failure opens it again.
//
// Requests check the state with one atomic load; recording an outcome takes
// the breaker's mutex, so only lists that configure a breaker pay for it.
type breaker struct {
	volume    int64
	threshold float64
	reset     int64 // nanoseconds
	bucket    int64 // nanoseconds
	codes     statusSet

	state    atomic.Int32
	openedAt atomic.Int64 // clock time

	mu      sync.Mutex
	buckets []bucket // ring indexed by (clock / bucket) % len
}

// bucket counts the outcomes of one slice of the window.
type bucket struct {
	slot           int64 // clock / bucket of the counts below
	total, failing int64
}

// newBreaker returns nil when c is nil.
func newBreaker(c *spec.CircuitBreaker) *breaker {
	if c == nil {
		return nil
	}
	window := time.Duration(c.TimeWindowMillis) * time.Millisecond
	if window <= 0 {
		window = defaultWindow
	}
	size := time.Duration(c.BucketSizeMillis) * time.Millisecond
	if size <= 0 {
		size = min(defaultBucket, window)
	}
	size = min(size, window)
	n := int((window + size - 1) / size)
	if n > maxBuckets {
		n = maxBuckets
		size = (window + maxBuckets - 1) / maxBuckets
	}
	b := &breaker{
		volume:    max(int64(c.RequestVolumeThreshold), 1),
		threshold: c.FailureThreshold,
		reset:     int64(time.Duration(c.ResetTimeMillis) * time.Millisecond),
		bucket:    int64(size),
		codes:     newStatusSet(c.StatusCodes),
		buckets:   make([]bucket, n),
	}
	for i := range b.buckets {
		b.buckets[i].slot = -1
	}
	return b
}

// allow reports whether a request may call the backend now, and whether it
// is the half-open trial, whose outcome decides the next state.
func (b *breaker) allow(now int64) (ok, trial bool) {
	switch b.state.Load() {
	case closed:
		return true, false
	case open:
		if now-b.openedAt.Load() >= b.reset && b.state.CompareAndSwap(open, halfOpen) {
			return true, true
		}
	}
	return false, false
}

// untry gives back a trial that never reached the backend (the client's
// request was at fault): the breaker is open again with its reset time
// already over, so the next request is the trial.
func (b *breaker) untry() {
	b.state.CompareAndSwap(halfOpen, open)
}

// record counts one attempt's outcome. A trial's outcome closes or reopens
// the breaker; outcomes of requests let through before it opened are
// ignored while it is not closed.
func (b *breaker) record(now int64, failed, trial bool) {
	if trial {
		if failed {
			b.openedAt.Store(now)
			b.state.Store(open)
			return
		}
		b.mu.Lock()
		for i := range b.buckets {
			b.buckets[i] = bucket{slot: -1}
		}
		b.state.Store(closed)
		b.mu.Unlock()
		return
	}
	if b.state.Load() != closed {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	slot := now / b.bucket
	cur := &b.buckets[slot%int64(len(b.buckets))]
	if cur.slot != slot {
		*cur = bucket{slot: slot}
	}
	cur.total++
	if failed {
		cur.failing++
	} else {
		return // a success cannot open the breaker
	}
	var total, failing int64
	oldest := slot - int64(len(b.buckets)) + 1
	for i := range b.buckets {
		if c := &b.buckets[i]; c.slot >= oldest {
			total += c.total
			failing += c.failing
		}
	}
	if total >= b.volume && float64(failing) >= b.threshold*float64(total) && b.state.Load() == closed {
		b.openedAt.Store(now)
		b.state.Store(open)
		for i := range b.buckets {
			b.buckets[i] = bucket{slot: -1}
		}
	}
}

// setRetryAfter tells a rejected client, in whole seconds, when the
// breaker lets a trial through.
func (b *breaker) setRetryAfter(ctx *fasthttp.RequestCtx, now int64) {
	left := b.reset - (now - b.openedAt.Load())
	secs := max((left+int64(time.Second)-1)/int64(time.Second), 1)
	var buf [20]byte
	ctx.Response.Header.SetBytesV(fasthttp.HeaderRetryAfter, strconv.AppendInt(buf[:0], secs, 10))
}
