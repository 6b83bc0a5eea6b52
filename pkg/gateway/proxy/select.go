package proxy

import (
	"sync/atomic"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// selector chooses the member of an endpoint list that takes a request's
// next attempt, as Caddy's Selector does: one method, one small type per
// policy. pick skips the members in tried (a bit per index) and prefers
// those that are up (member.available); it returns -1 when every member
// was tried. It runs on every request, so implementations are safe for
// concurrent use, lock-free and allocation-free.
type selector interface {
	pick(members []member, tried uint64, now int64) int
}

var (
	_ selector = single{}
	_ selector = failover{}
	_ selector = (*roundRobin)(nil)
)

// newSelector returns the selector of a list of type typ with n members.
// type http has one member by then (spec.Endpoints.Active).
func newSelector(typ string, n int) selector {
	switch {
	case n == 1:
		return single{}
	case typ == spec.TypeFailover:
		return failover{}
	}
	return new(roundRobin)
}

// single serves a list of one URL. With no other member to move to, its
// health is not tracked: the member takes every attempt, and a retry
// after it was tried goes to it again.
type single struct{}

func (single) pick(_ []member, tried uint64, _ int64) int {
	if tried != 0 {
		return -1
	}
	return 0
}

// failover sends each attempt to the first member that is up, in the order
// the definition lists them (type failover).
type failover struct{}

func (failover) pick(members []member, tried uint64, now int64) int {
	return scan(members, 0, tried, now)
}

// roundRobin starts each attempt's scan one member after the previous
// one's (type load_balance): one atomic counter per list.
type roundRobin struct{ next atomic.Uint64 }

func (r *roundRobin) pick(members []member, tried uint64, now int64) int {
	start := int((r.next.Add(1) - 1) % uint64(len(members)))
	return scan(members, start, tried, now)
}

// scan returns the first member from start on, wrapping around, that is
// not in tried and is up. When every untried member is down it returns the
// first of them anyway, so a request still tries them rather than fail
// unsent; -1 when all were tried.
func scan(members []member, start int, tried uint64, now int64) int {
	n := len(members)
	fallback := -1
	for k := range n {
		i := start + k
		if i >= n {
			i -= n
		}
		if tried&(1<<i) != 0 {
			continue
		}
		if members[i].available(now) {
			return i
		}
		if fallback < 0 {
			fallback = i
		}
	}
	return fallback
}
