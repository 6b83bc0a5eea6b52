// Package traffic counts each API's requests and errors over the last
// five minutes, in buckets of ten seconds, for the admin dashboard's
// charts.
//
// Counting is on the request path, so it allocates nothing and takes no
// lock: each bucket is two atomic words, each holding the bucket's number
// in its upper 32 bits and its count in the lower 32, updated by
// compare-and-swap. A bucket that belongs to an older period is reset by
// the first request of the new one, within the same swap, so no count is
// lost or double-counted across the reset. A nil *Meter counts nothing,
// so a route without one needs no check.
package traffic

import (
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Bucket is the period one bucket counts; Buckets of them span the window
// the dashboard charts (5 minutes).
const (
	Bucket  = 10 * time.Second
	Buckets = 30
)

// Meter counts one API's requests. Its zero value is ready to use.
type Meter struct {
	requests [Buckets]atomic.Uint64
	errors   [Buckets]atomic.Uint64
}

// Registry holds one Meter per API, by the API's index in spec.Gateway.APIs.
type Registry struct {
	meters []Meter
}

// New returns a Registry for apis APIs.
func New(apis int) *Registry { return &Registry{meters: make([]Meter, apis)} }

// API returns the Meter of the API at index i; nil when r is nil or i is
// out of range, and a nil Meter counts nothing.
func (r *Registry) API(i int) *Meter {
	if r == nil || i < 0 || i >= len(r.meters) {
		return nil
	}
	return &r.meters[i]
}

// Done counts the request ctx has answered, at the time it began: an error
// when its status is 500 or more (the gateway's own faults, such as 502,
// 503 and 504, and the backend's 5xx). Call it once the response status is
// set, e.g. deferred right after routing.
func (m *Meter) Done(ctx *fasthttp.RequestCtx) {
	m.Observe(ctx.Time(), ctx.Response.StatusCode())
}

// Observe counts one request answered with status, at time at.
func (m *Meter) Observe(at time.Time, status int) {
	if m == nil {
		return
	}
	n := number(at)
	i := n % Buckets
	add(&m.requests[i], n)
	if status >= 500 {
		add(&m.errors[i], n)
	}
}

// number is the bucket number of t: ten-second periods since the Unix
// epoch, kept to 32 bits (wrapping after 1300 years).
func number(t time.Time) uint64 {
	return uint64(t.Unix()/int64(Bucket/time.Second)) & (1<<32 - 1)
}

// add counts one in the word w for bucket number n, resetting it if it
// holds an older bucket's count.
func add(w *atomic.Uint64, n uint64) {
	for {
		old := w.Load()
		next := n<<32 | 1
		if old>>32 == n {
			if uint32(old) == 1<<32-1 {
				return // full: 429 million requests in ten seconds
			}
			next = old + 1
		} else if old>>32 > n && old>>32-n < 1<<31 {
			return // a newer bucket holds the slot: this request is too old to count
		}
		if w.CompareAndSwap(old, next) {
			return
		}
	}
}

// count is the count of w for bucket number n: 0 if w holds another bucket.
func count(w *atomic.Uint64, n uint64) uint64 {
	v := w.Load()
	if v>>32 != n {
		return 0
	}
	return uint64(uint32(v))
}

// Series is a Meter's counts over the window, oldest bucket first: the
// last bucket is the one now is in, still filling.
type Series struct {
	// Start is the beginning of the oldest bucket.
	Start time.Time `json:"start"`
	// BucketSeconds is the length of each bucket.
	BucketSeconds int      `json:"bucket_seconds"`
	Requests      []uint64 `json:"requests"`
	Errors        []uint64 `json:"errors"`
}

// Snapshot returns the counts of the Buckets buckets up to the one now is
// in. A nil Meter gives zeros.
func (m *Meter) Snapshot(now time.Time) Series {
	last := number(now)
	first := last - Buckets + 1
	s := Series{
		Start:         time.Unix(int64(first)*int64(Bucket/time.Second), 0).UTC(),
		BucketSeconds: int(Bucket / time.Second),
		Requests:      make([]uint64, Buckets),
		Errors:        make([]uint64, Buckets),
	}
	if m == nil {
		return s
	}
	for j := range uint64(Buckets) {
		n := (first + j) & (1<<32 - 1)
		s.Requests[j] = count(&m.requests[n%Buckets], n)
		s.Errors[j] = count(&m.errors[n%Buckets], n)
	}
	return s
}
