package throttle

import (
	"fmt"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Rate is one compiled policy: Limit requests per Window, with the GCRA's
// emission interval precomputed. A nil *Rate is Unlimited.
type Rate struct {
	// Name is the policy's name in policies.yaml.
	Name   string
	Limit  int64
	Window time.Duration
	// interval is Window/Limit rounded up: the time one request costs.
	interval int64
	// tau is Limit*interval: how far ahead of now the theoretical arrival
	// time may run, i.e. the burst of Limit requests.
	tau int64
	// ivUS and tauUS are the same in microseconds, for the Redis script.
	ivUS, tauUS int64
}

// NewRate compiles a policy. A count below 1 or a window that is not
// positive is an error: policies.yaml is checked at build time, so this is
// a safety net for hand-made routes.
func NewRate(p spec.Policy) (*Rate, error) {
	w := p.Window()
	if p.Count < 1 || w <= 0 {
		return nil, fmt.Errorf("throttling policy %q: count %d per %d %s is not a limit; give a count of at least 1 and a unitTime of at least 1 in sec, min, hour or day", p.Name, p.Count, p.UnitTime, p.TimeUnit)
	}
	return newRate(p.Name, p.Count, w), nil
}

func newRate(name string, limit int64, w time.Duration) *Rate {
	g := gcraOf(limit, w)
	us := (g.interval + 999) / 1000
	return &Rate{Name: name, Limit: limit, Window: w, interval: g.interval, tau: g.tau, ivUS: us, tauUS: us * limit}
}

// params are what one GCRA step needs, as values so that a scaled rate
// costs no allocation.
type params struct{ limit, interval, tau int64 }

func gcraOf(limit int64, w time.Duration) params {
	iv := (int64(w) + limit - 1) / limit
	return params{limit, iv, iv * limit}
}

func (r *Rate) params() params { return params{r.Limit, r.interval, r.tau} }

// share is the rate with its limit divided by n (at least 1): each of n
// gateways' share when they cannot count together.
func (r *Rate) share(n int64) params {
	if n <= 1 {
		return r.params()
	}
	return gcraOf(max(r.Limit/n, 1), r.Window)
}

// Policies are the compiled policies.yaml, by kind and name. Unlimited is
// defined in every kind and compiles to a nil *Rate.
type Policies struct {
	resource, application, subscription map[string]*Rate
}

// CompilePolicies compiles every policy of the project.
func CompilePolicies(ps spec.Policies) (*Policies, error) {
	out := &Policies{}
	var err error
	if out.resource, err = compileKind(spec.PolicyResource, ps.Resource); err != nil {
		return nil, err
	}
	if out.application, err = compileKind(spec.PolicyApplication, ps.Application); err != nil {
		return nil, err
	}
	if out.subscription, err = compileKind(spec.PolicySubscription, ps.Subscription); err != nil {
		return nil, err
	}
	return out, nil
}

func compileKind(kind string, list []spec.Policy) (map[string]*Rate, error) {
	m := map[string]*Rate{spec.Unlimited: nil}
	for _, p := range list {
		if p.Name == spec.Unlimited {
			continue
		}
		r, err := NewRate(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		m[p.Name] = r
	}
	return m, nil
}

// Resource returns the resource policy (API and operation tiers) named
// name; ok is false when none is defined. "" is Unlimited.
func (p *Policies) Resource(name string) (r *Rate, ok bool) { return lookup(p.resource, name) }

// Application returns the application policy named name.
func (p *Policies) Application(name string) (r *Rate, ok bool) { return lookup(p.application, name) }

// Subscription returns the subscription policy named name.
func (p *Policies) Subscription(name string) (r *Rate, ok bool) {
	return lookup(p.subscription, name)
}

func lookup(m map[string]*Rate, name string) (*Rate, bool) {
	if name == "" {
		return nil, true
	}
	r, ok := m[name]
	return r, ok
}
