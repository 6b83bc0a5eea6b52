package throttle

import (
	"fmt"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// Route is one route's throttling, as the proxy knows it when it builds
// the route.
type Route struct {
	// API names the API in keys, the same on every gateway: its name and
	// version, e.g. "PetStore:1.0.0".
	API string
	// Resource names the operation within the API: method and path
	// template, e.g. "GET /pets/{id}".
	Resource string
	// ResourceTier is the operation's x-wso2-throttling-tier ("" for none).
	ResourceTier string
	// APITier is the API's x-wso2-throttling-tier ("" for none).
	APITier string
	// Open says the route may be called without authentication (served
	// open, or optional security): a request without a credential falls
	// under the Unauthenticated subscription tier, counted per client IP.
	Open bool
}

// Caller is who sent a request, from its credential.
type Caller struct {
	// AppID is the calling application's id (the token's application.id;
	// the proxy may put the subject when a credential has no application).
	// Without one, no subscription or application tier applies.
	AppID string
	// AppTier is the token's application.tier ("" : Unlimited).
	AppTier string
	// SubscriptionTier is the subscriptionTier of the token's
	// subscribedAPIs entry for this API ("" : Unlimited).
	SubscriptionTier string
	// ClientIP is the client's address as raw bytes (fasthttp's
	// RequestCtx.RemoteIP()), used on Open routes.
	ClientIP []byte
}

// Plan is one route's limits, compiled once: the keys known when the route
// is built are pinned, the others are composed per request in a stack
// buffer. Check allocates nothing for keys already held.
type Plan struct {
	l                   *Limiter
	policies            *Policies
	resource, api       *Rate
	resourceE, apiE     *entry
	unauthenticated     *Rate
	subPrefix, ipPrefix string
}

// Key prefixes keep each tier's keys apart.
const (
	prefixResource     = "r\x00"
	prefixAPI          = "a\x00"
	prefixSubscription = "s\x00"
	prefixClientIP     = "u\x00"
	prefixApplication  = "p\x00"
)

// Plan compiles rt's limits. A tier that ps does not define is an error
// (the build checks definitions, so this is a safety net).
func (l *Limiter) Plan(ps *Policies, rt Route) (*Plan, error) {
	p := &Plan{l: l, policies: ps, subPrefix: prefixSubscription + rt.API + "\x00", ipPrefix: prefixClientIP + rt.API + "\x00"}
	var ok bool
	if p.resource, ok = ps.Resource(rt.ResourceTier); !ok {
		return nil, fmt.Errorf("%s %s: x-wso2-throttling-tier %q is not in policies.yaml's resourcePolicies; define it or name one that is", rt.API, rt.Resource, rt.ResourceTier)
	}
	if p.api, ok = ps.Resource(rt.APITier); !ok {
		return nil, fmt.Errorf("%s: x-wso2-throttling-tier %q is not in policies.yaml's resourcePolicies; define it or name one that is", rt.API, rt.APITier)
	}
	if p.resource != nil {
		p.resourceE = l.pin(prefixResource + rt.API + "\x00" + rt.Resource)
	}
	if p.api != nil {
		p.apiE = l.pin(prefixAPI + rt.API)
	}
	if rt.Open {
		p.unauthenticated, _ = ps.Subscription("Unauthenticated")
	}
	return p, nil
}

// Limited reports whether any tier can refuse or send headers on this
// route for some caller; a route with no tiers at all may skip Check.
func (p *Plan) Limited() bool {
	return p.resource != nil || p.api != nil || p.unauthenticated != nil || len(p.policies.subscription) > 1 || len(p.policies.application) > 1
}

// taken is one admitted count, kept to give it back if a later tier refuses.
type taken struct {
	e   *entry
	r   *Rate
	via uint8
}

// Check counts one request in micro-gw 3.x's order: resource tier (900802),
// API tier (900800), subscription tier (900804; Unauthenticated per client
// IP on an open route), application tier (900803). It returns the first
// refusal's fault and decision, whose counts in the tiers before it are
// given back, so a caller over its own limit does not eat the limits it
// shares with others. When every tier admits, f is nil and d is the
// tightest decision (fewest remaining), for the headers. A tier name in c
// that policies.yaml does not define answers 900809.
func (p *Plan) Check(c *Caller) (d Decision, f *fault.Fault) {
	l := p.l
	now := l.now()
	var done [4]taken
	n := 0
	d = Decision{Allowed: true}
	step := func(e *entry, r *Rate, refusal *fault.Fault) bool {
		x, via := l.decide(e, r, now)
		if !x.Allowed {
			for i := range n {
				l.giveBack(done[i].e, done[i].r, done[i].via)
			}
			d, f = x, refusal
			return false
		}
		done[n] = taken{e, r, via}
		n++
		d = tighter(d, x)
		return true
	}
	if p.resource != nil && !step(p.resourceE, p.resource, fault.ResourceThrottled) {
		return d, f
	}
	if p.api != nil && !step(p.apiE, p.api, fault.APIThrottled) {
		return d, f
	}
	var buf [128]byte
	switch {
	case p.unauthenticated != nil && c.AppID == "":
		k := append(append(buf[:0], p.ipPrefix...), clientKey(c.ClientIP)...)
		if !step(l.get(k, now), p.unauthenticated, fault.SubscriptionThrottled) {
			return d, f
		}
	case c.AppID != "":
		r, ok := p.policies.Subscription(c.SubscriptionTier)
		if !ok {
			return p.notFound(done[:n])
		}
		if r != nil {
			k := append(append(buf[:0], p.subPrefix...), c.AppID...)
			if !step(l.get(k, now), r, fault.SubscriptionThrottled) {
				return d, f
			}
		}
	}
	if c.AppID != "" {
		r, ok := p.policies.Application(c.AppTier)
		if !ok {
			return p.notFound(done[:n])
		}
		if r != nil {
			k := append(append(buf[:0], prefixApplication...), c.AppID...)
			if !step(l.get(k, now), r, fault.ApplicationThrottled) {
				return d, f
			}
		}
	}
	return d, nil
}

// notFound gives back what was counted and answers 900809.
func (p *Plan) notFound(done []taken) (Decision, *fault.Fault) {
	for _, t := range done {
		p.l.giveBack(t.e, t.r, t.via)
	}
	return Decision{}, fault.PolicyNotFound
}

// tighter is the decision to show in headers: the one with fewer requests
// remaining, or on a tie the longer reset. Unlimited (Limit 0) loses.
func tighter(a, b Decision) Decision {
	switch {
	case a.Limit == 0:
		return b
	case b.Limit == 0:
		return a
	case b.Remaining < a.Remaining, b.Remaining == a.Remaining && b.Reset > a.Reset:
		return b
	}
	return a
}

// clientKey is the part of a client address counted as one client: an
// IPv4 address whole, an IPv6 address by its /64, since one host is
// handed a whole /64 and could rotate through it.
func clientKey(ip []byte) []byte {
	if len(ip) != 16 {
		return ip
	}
	for i := range 10 {
		if ip[i] != 0 {
			return ip[:8] // IPv6: its /64
		}
	}
	if ip[10] == 0xff && ip[11] == 0xff {
		return ip[12:] // IPv4 in its 16-byte form
	}
	return ip[:8]
}
