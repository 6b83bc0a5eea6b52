package definition

import (
	"fmt"
	"strings"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// CheckTiers refuses every x-wso2-throttling-tier that no resource policy
// of pol defines (Unlimited always is): micro-gw 3.x failed such requests
// with 900809 at run time; the build names the definition's line instead.
// policiesFile names where the policies come from, for the hint. The
// error is a *Diagnostics holding one error per use.
func (r *Result) CheckTiers(pol *spec.Policies, policiesFile string) error {
	diag := &Diagnostics{}
	for _, t := range r.tiers {
		if pol.Defines(spec.PolicyResource, t.name) {
			continue
		}
		e := *t.at
		e.Msg = fmt.Sprintf("%s %q is not defined: %s defines %s", extThrottlingTier, t.name, policiesFile, definedTiers(pol))
		e.Hint = "use one of them, or add " + t.name + " under " + spec.PolicyResource + " in " + policiesFile
		for _, kind := range []string{spec.PolicyApplication, spec.PolicySubscription} {
			if pol.Defines(kind, t.name) {
				e.Hint = fmt.Sprintf("%s is one of the %s, which apply to the calling application; %s takes %s only: %s", t.name, kind, extThrottlingTier, spec.PolicyResource, e.Hint)
			}
		}
		diag.Errors = append(diag.Errors, &e)
	}
	if len(diag.Errors) == 0 {
		return nil
	}
	return diag
}

// definedTiers lists the resource policies of pol, Unlimited included.
func definedTiers(pol *spec.Policies) string {
	names := []string{}
	for _, p := range pol.Resource {
		names = append(names, p.Name)
	}
	names = append(names, spec.Unlimited)
	return spec.PolicyResource + ": " + strings.Join(names, ", ")
}
