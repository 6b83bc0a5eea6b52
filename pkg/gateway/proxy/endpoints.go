package proxy

import (
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// endpointSet is what one spec.Endpoints list becomes. A list of one URL
// with no retries and no circuit breaker is served by balancer, the plain
// path; any other list by policy.
type endpointSet struct {
	timeout  time.Duration
	balancer Balancer
	policy   *policy
}

// policy is an endpoint list that balances, fails over, retries or breaks
// the circuit. One policy serves every route whose effective endpoints are
// the same spec.Endpoints value, so they share its round-robin counter, the
// health of its URLs and its circuit breaker.
type policy struct {
	list    *list
	retry   *retryPolicy // nil: no retries
	breaker *breaker     // nil: no circuit breaker
	// buffer is set when a request may be sent more than once (retries or
	// more than one URL), so small bodies are buffered to be replayable.
	buffer bool
}

// newEndpointSet builds the backends of eps; bind gives each URL its Binding.
func newEndpointSet(eps *spec.Endpoints, bind Bind, c *clients, timeout time.Duration) (*endpointSet, error) {
	urls := eps.URLs
	if eps.Type == spec.TypeHTTP {
		urls = urls[:1] // the build warns and keeps the first; so does the runtime
	}
	s := &endpointSet{timeout: timeout}
	var retry *retryPolicy
	var br *breaker
	if a := eps.Advanced; a != nil {
		if a.TimeoutMillis > 0 {
			s.timeout = time.Duration(a.TimeoutMillis) * time.Millisecond
		}
		retry = newRetryPolicy(a.Retry)
		br = newBreaker(a.CircuitBreaker)
	}
	backends := make([]*Backend, len(urls))
	for i, u := range urls {
		b, err := bind(u)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", u, err)
		}
		backends[i] = newBackend(b, c, s.timeout)
	}
	if len(backends) == 1 && retry == nil && br == nil {
		s.balancer = &first{backends[0]}
		return s, nil
	}
	s.policy = &policy{
		list:    newList(backends, eps.Type == spec.TypeFailover),
		retry:   retry,
		breaker: br,
		buffer:  retry != nil || len(backends) > 1,
	}
	return s, nil
}

// list is an ordered endpoint list with passive health: a URL that failed
// to connect or timed out is skipped for a while (see the package doc).
type list struct {
	members  []member
	failover bool          // in order; else round robin
	next     atomic.Uint64 // round-robin counter
}

// member is one URL of a list and its health.
type member struct {
	*Backend
	// down is the clock time until which the URL is skipped; 0 when up.
	down atomic.Int64
	// strikes counts consecutive failures, doubling the time skipped.
	strikes atomic.Int32
}

// maxMembers bounds the URLs a list tracks per request (a bit mask).
const maxMembers = 64

// Health timings: a failed URL is skipped for downMin, doubled on each
// further consecutive failure up to downMax.
const (
	downMin = time.Second
	downMax = 16 * time.Second
)

func newList(backends []*Backend, failover bool) *list {
	if len(backends) > maxMembers {
		backends = backends[:maxMembers]
	}
	l := &list{members: make([]member, len(backends)), failover: failover}
	for i, b := range backends {
		l.members[i].Backend = b
	}
	return l
}

// pick returns the index of the member for the next attempt, skipping those
// in tried (a bit per index) and those marked down. When every untried
// member is down it returns the first of them in pick order anyway, and -1
// when all were tried.
func (l *list) pick(now int64, tried uint64) int {
	n := len(l.members)
	start := 0
	if !l.failover && n > 1 {
		start = int((l.next.Add(1) - 1) % uint64(n))
	}
	fallback := -1
	for k := range n {
		i := start + k
		if i >= n {
			i -= n
		}
		if tried&(1<<i) != 0 {
			continue
		}
		if l.members[i].available(now) {
			return i
		}
		if fallback < 0 {
			fallback = i
		}
	}
	return fallback
}

// untried reports how many members are not in tried.
func (l *list) untried(tried uint64) int {
	return len(l.members) - bits.OnesCount64(tried)
}

// available reports whether m may take a request now. An up member always
// may. A down member whose time is over may take exactly one request, the
// probe: the caller that claims it pushes the down time on by downMin so
// that other requests keep avoiding the member until the probe's outcome
// marks it up or down again.
func (m *member) available(now int64) bool {
	d := m.down.Load()
	if d == 0 {
		return true
	}
	return now >= d && m.down.CompareAndSwap(d, now+int64(downMin))
}

// failed marks m down after a connection failure or timeout.
func (m *member) failed(now int64) {
	s := min(m.strikes.Add(1), 5) // 2^4 * downMin = downMax
	d := min(downMin<<(s-1), downMax)
	m.down.Store(now + int64(d))
}

// succeeded marks m up.
func (m *member) succeeded() {
	if m.down.Load() != 0 {
		m.down.Store(0)
		m.strikes.Store(0)
	}
}

// epoch anchors clock, so that clock readings are monotonic.
var epoch = time.Now()

// clock is the time in nanoseconds since the process started, monotonic.
func clock() int64 { return int64(time.Since(epoch)) }
