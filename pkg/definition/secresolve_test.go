package definition

import (
	"testing"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// wantSecurity checks the effective security of each resource, written
// "GET /x: <spec.Security.String()>", in the resources' order.
func wantSecurity(t *testing.T, rs []spec.Resource, want ...string) {
	t.Helper()
	var got []string
	for _, r := range rs {
		got = append(got, r.Method+" "+r.Path+": "+r.EffectiveSecurity().String())
	}
	wantExactly(t, got, want...)
}
