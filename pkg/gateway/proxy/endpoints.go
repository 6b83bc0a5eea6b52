package proxy

import (
	"fmt"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// endpointSet is what one spec.Endpoints list becomes: the members its
// selector picks from, attempt by attempt, and the rules of the exchange
// with them (exchange.go). One endpointSet serves every route whose
// effective endpoints are the same spec.Endpoints value, so they share its
// round-robin counter, the health of its URLs and its circuit breaker.
type endpointSet struct {
	members  []member
	selector selector
	timeout  time.Duration
	retry    *retryPolicy // nil: no retries
	breaker  *breaker     // nil: no circuit breaker
	// replay is set when a request may be sent more than once (retries or
	// more than one URL): small bodies are then buffered to be replayable.
	replay bool
	// timed is set when the exchange needs the time: for the health of
	// several members, or for a breaker. A list of one URL without a
	// breaker reads no clock.
	timed bool
	// name is the list's URLs as written, which names its circuit
	// breaker in the metrics.
	name string
}

// newEndpointSet builds the members of eps; bind gives each URL its Binding.
func newEndpointSet(eps *spec.Endpoints, bind Bind, c *clients, timeout time.Duration) (*endpointSet, error) {
	urls := eps.Active()
	s := &endpointSet{timeout: timeout, name: listName(urls)}
	if a := eps.Advanced; a != nil {
		if a.TimeoutMillis > 0 {
			s.timeout = time.Duration(a.TimeoutMillis) * time.Millisecond
		}
		s.retry = newRetryPolicy(a.Retry)
		s.breaker = newBreaker(a.CircuitBreaker)
	}
	backends := make([]*Backend, len(urls))
	for i, u := range urls {
		b, err := bind(u)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", u, err)
		}
		backends[i] = newBackend(b, c, s.timeout)
	}
	s.members = newMembers(backends)
	s.selector = newSelector(eps.Type, len(s.members))
	s.replay = s.retry != nil || len(s.members) > 1
	s.timed = s.breaker != nil || len(s.members) > 1
	return s, nil
}

// listName joins the URLs of a list as written in the definition.
func listName(urls []spec.EndpointURL) string {
	var b strings.Builder
	for i, u := range urls {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(u.String())
	}
	return b.String()
}

// now is the clock time for an exchange with s; 0 when s keeps no time.
func (s *endpointSet) now() int64 {
	if !s.timed {
		return 0
	}
	return clock()
}

// open reports whether s's breaker, if any, stops requests now.
func (s *endpointSet) open() bool {
	return s.breaker != nil && s.breaker.state.Load() != closed
}

// untried reports how many members of s are not in tried.
func (s *endpointSet) untried(tried uint64) int {
	return len(s.members) - bits.OnesCount64(tried)
}

// member is one URL of a list and its passive health: a URL that failed
// to connect or timed out is skipped for a while (see the package doc).
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

// newMembers makes the members of a list: the first maxMembers backends.
func newMembers(backends []*Backend) []member {
	if len(backends) > maxMembers {
		backends = backends[:maxMembers]
	}
	ms := make([]member, len(backends))
	for i, b := range backends {
		ms[i].Backend = b
	}
	return ms
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
