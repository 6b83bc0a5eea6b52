package spec

import "time"

// Policy kinds of policies.yaml, micro-gw 3.x's format.
const (
	// PolicyResource policies serve x-wso2-throttling-tier at API and
	// operation level: one count shared by every caller.
	PolicyResource = "resourcePolicies"
	// PolicyApplication policies are per calling application (the token's
	// application.tier), across APIs.
	PolicyApplication = "applicationPolicies"
	// PolicySubscription policies are per application per API (the token's
	// subscribedAPIs[].subscriptionTier); Unauthenticated applies per
	// client IP to APIs served open.
	PolicySubscription = "subscriptionPolicies"
)

// Unlimited is the tier every kind defines, which never limits.
const Unlimited = "Unlimited"

// Policies are the project's policies.yaml, embedded in the gateway.
type Policies struct {
	Resource     []Policy `json:"resource,omitempty"`
	Application  []Policy `json:"application,omitempty"`
	Subscription []Policy `json:"subscription,omitempty"`
}

// Policy is one named limit: Count requests per UnitTime TimeUnit.
type Policy struct {
	Name     string `json:"name"`
	Count    int64  `json:"count"`
	UnitTime int64  `json:"unitTime"`
	// TimeUnit is sec, min, hour or day.
	TimeUnit string `json:"timeUnit"`
}

// TimeUnits are the values a policy's timeUnit may take, in order, and
// unitLengths their lengths: the one list policies.yaml is read and
// counted by.
var (
	TimeUnits   = []string{"sec", "min", "hour", "day"}
	unitLengths = []time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour}
)

// Window is the policy's period: UnitTime TimeUnits; 0 for an unknown unit.
func (p Policy) Window() time.Duration {
	for i, u := range TimeUnits {
		if u == p.TimeUnit {
			return time.Duration(p.UnitTime) * unitLengths[i]
		}
	}
	return 0
}

// Of returns the policies of kind: PolicyResource, PolicyApplication or
// PolicySubscription (nil for another kind).
func (p *Policies) Of(kind string) []Policy {
	switch kind {
	case PolicyResource:
		return p.Resource
	case PolicyApplication:
		return p.Application
	case PolicySubscription:
		return p.Subscription
	}
	return nil
}

// Defines reports whether kind has a policy named name; Unlimited is
// always defined.
func (p *Policies) Defines(kind, name string) bool {
	if name == Unlimited {
		return true
	}
	for _, pol := range p.Of(kind) {
		if pol.Name == name {
			return true
		}
	}
	return false
}
