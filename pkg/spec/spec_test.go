package spec

import "testing"

// TestJoinPathRoutesRootResourceAtBasePath protects the one rule both the
// build (duplicate-route checks) and the runtime (route table) use to join
// a base path and a resource path: no doubled or trailing slash.
func TestJoinPathRoutesRootResourceAtBasePath(t *testing.T) {
	for _, c := range []struct{ base, path, want string }{
		{"/shop", "/", "/shop"},
		{"/shop", "/pet/{id}", "/shop/pet/{id}"},
		{"/", "/pet", "/pet"},
		{"/", "/", "/"},
	} {
		if got := JoinPath(c.base, c.path); got != c.want {
			t.Errorf("JoinPath(%q, %q) = %q, want %q", c.base, c.path, got, c.want)
		}
	}
}
