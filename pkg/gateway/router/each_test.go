package router

import (
	"slices"
	"testing"
)

// TestEachVisitsEveryRouteOnce: the admin listener lists endpoint health
// from the route table, so Each must reach every route, static, parameter,
// pattern and root alike, exactly once, with its method.
func TestEachVisitsEveryRouteOnce(t *testing.T) {
	routes := []string{
		"GET /petstore/v1/pet/{petId}",
		"DELETE /petstore/v1/pet/{petId}",
		"GET /petstore/v1/pet/findByStatus",
		"POST /petstore/v1/pet",
		"GET /petstore/v1/files/{name}.json",
		"GET /",
	}
	var seen []string
	build(t, routes...).Each(func(method, value string) {
		if method+" " != value[:len(method)+1] {
			t.Errorf("route %q visited with method %q", value, method)
		}
		seen = append(seen, value)
	})
	slices.Sort(seen)
	want := slices.Sorted(slices.Values(routes))
	if !slices.Equal(seen, want) {
		t.Errorf("Each visited %q, want %q", seen, want)
	}
}
