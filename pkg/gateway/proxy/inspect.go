package proxy

import (
	"slices"
	"strings"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/traffic"
)

// EndpointStatus is the state of one endpoint list, as the admin listener
// shows it: its URLs' passive health and its circuit breaker.
type EndpointStatus struct {
	// Routes counts the routes (method and path) that use the list, as
	// production or sandbox endpoints.
	Routes  int            `json:"routes"`
	Members []MemberStatus `json:"members"`
	// Breaker is nil when the list configures no circuit breaker.
	Breaker *BreakerStatus `json:"breaker,omitempty"`
}

// MemberStatus is one URL of a list.
type MemberStatus struct {
	// URL is the one requests go to now (an etcd key's current value).
	URL string `json:"url"`
	// Up is false while the URL is skipped after a connection failure or
	// timeout, until DownUntil; then one request probes it.
	Up        bool      `json:"up"`
	DownUntil time.Time `json:"down_until,omitzero"`
	// Failures counts the consecutive failures (up to 5) that set the
	// time skipped.
	Failures int `json:"failures,omitempty"`
}

// BreakerStatus is a circuit breaker's state: closed, open or half-open
// (one trial request is with the backend).
type BreakerStatus struct {
	State string `json:"state"`
	// OpenedAt is when it last opened; zero if it never did.
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// ResetSeconds is how long it stays open before a trial.
	ResetSeconds float64 `json:"reset_seconds"`
}

// Traffic is the registry that counts requests per API (Options.Traffic).
func (p *Proxy) Traffic() *traffic.Registry { return p.opts.Traffic }

// Endpoints reports every endpoint list the routes use, each once, in a
// stable order (by their URLs). It reads atomics only and never blocks
// the request path.
func (p *Proxy) Endpoints() []EndpointStatus {
	uses := map[*endpointSet]int{}
	var order []*endpointSet
	count := func(s *endpointSet) {
		if s == nil {
			return
		}
		if uses[s] == 0 {
			order = append(order, s)
		}
		uses[s]++
	}
	p.routes.Each(func(_ string, rt *route) {
		if rt.allow != "" {
			return // a CORS preflight route added by the gateway, not the definition's
		}
		count(rt.production)
		if rt.sandbox != rt.production {
			count(rt.sandbox)
		}
	})
	out := make([]EndpointStatus, len(order))
	for i, s := range order {
		out[i] = s.status(uses[s])
	}
	slices.SortStableFunc(out, func(a, b EndpointStatus) int { return strings.Compare(urls(a), urls(b)) })
	return out
}

// status reports s, used by routes routes.
func (s *endpointSet) status(routes int) EndpointStatus {
	st := EndpointStatus{Routes: routes, Members: make([]MemberStatus, len(s.members))}
	for i := range s.members {
		m := &s.members[i]
		ms := MemberStatus{URL: m.binding.Load().Raw, Up: true}
		if d := m.down.Load(); d != 0 {
			ms.Up, ms.DownUntil, ms.Failures = false, clockTime(d), int(m.strikes.Load())
		}
		st.Members[i] = ms
	}
	if b := s.breaker; b != nil {
		bs := &BreakerStatus{State: stateName(b.state.Load()), ResetSeconds: time.Duration(b.reset).Seconds()}
		if at := b.openedAt.Load(); at != 0 {
			bs.OpenedAt = clockTime(at)
		}
		st.Breaker = bs
	}
	return st
}

// clockTime is the wall time of a clock reading.
func clockTime(c int64) time.Time { return epoch.Add(time.Duration(c)).UTC() }

func stateName(s int32) string {
	switch s {
	case open:
		return "open"
	case halfOpen:
		return "half-open"
	}
	return "closed"
}

func urls(e EndpointStatus) string {
	var b strings.Builder
	for _, m := range e.Members {
		b.WriteString(m.URL)
		b.WriteByte(' ')
	}
	return b.String()
}
