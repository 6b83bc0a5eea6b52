package spec

import (
	"fmt"
	"testing"
)

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

// TestSecuritySummaryGroupsOperations protects the build's line per API:
// one security when all operations share it; else each distinct one with
// its operations, the most common counted last, and at most a few listed,
// so that an API of many operations still gets one short line.
func TestSecuritySummaryGroupsOperations(t *testing.T) {
	open := &Security{Disabled: true}
	res := func(method, path string, s *Security) Resource {
		return Resource{Method: method, Path: path, Security: s}
	}
	key := &Security{Alternatives: [][]Requirement{{{Scheme: "k", Kind: KindAPIKey, In: InHeader, Name: "X-API-Key"}}, {{Scheme: "b", Kind: KindBasic}}}}
	read := &Security{Alternatives: [][]Requirement{{{Scheme: "o", Kind: KindOAuth2, Scopes: []string{"read:pets"}}}}}
	many := []Resource{}
	for i := range 50 {
		many = append(many, res("GET", fmt.Sprintf("/s%d", i), &Security{Alternatives: [][]Requirement{{{Kind: KindOAuth2, Scopes: []string{fmt.Sprint(i)}}}}}))
	}
	many = append(many, res("GET", "/a", open), res("GET", "/b", open), res("GET", "/c", open), res("GET", "/d", open), res("GET", "/e", open), res("GET", "/f", open),
		res("GET", "/g", open), res("GET", "/h", open), res("GET", "/i", open), res("GET", "/j", open))
	for _, c := range []struct {
		name string
		rs   []Resource
		want string
	}{
		{"all default", []Resource{res("GET", "/a", nil), res("PUT", "/a", nil)},
			"oauth2 (default, as micro-gw 3.x; add x-wso2-disable-security: true to serve it open)"},
		{"brief's example", []Resource{res("GET", "/pet/{id}", read), res("POST", "/pet", key), res("GET", "/a", open), res("GET", "/b", open), res("GET", "/c", open)},
			"GET /pet/{id}: oauth2[read:pets]; POST /pet: apikey(header X-API-Key) | basic; 3 others: open (x-wso2-disable-security)"},
		{"small groups listed in order", []Resource{res("GET", "/a", open), res("GET", "/b", read), res("PUT", "/b", open)},
			"GET /a, PUT /b: open (x-wso2-disable-security); GET /b: oauth2[read:pets]"},
		{"a group of many operations", []Resource{res("GET", "/a", read), res("GET", "/b", read), res("GET", "/c", read), res("GET", "/d", open), res("GET", "/e", open), res("GET", "/f", open), res("GET", "/g", open)},
			"GET /a, GET /b and 1 more: oauth2[read:pets]; 4 others: open (x-wso2-disable-security)"},
		{"many distinct", many,
			"GET /s0: oauth2[0]; GET /s1: oauth2[1]; GET /s2: oauth2[2]; GET /s3: oauth2[3]; 46 more operations with other security; 10 others: open (x-wso2-disable-security)"},
	} {
		a := &API{Resources: c.rs}
		if got := a.SecuritySummary(); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.name, got, c.want)
		}
	}
}
