package definition

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPath(t *testing.T) {
	tests := []struct {
		path      string
		templates bool
		err       string
	}{
		{"/pet/{petId}", true, ""},
		{"/files/{name}.{ext}", true, ""},
		{"/", true, ""},
		{"/*/`x`/'y'/\"z\"", true, ""},
		{"pet", true, "does not start with /"},
		{"/pet/{", true, "has a { without its }"},
		{"/pet/{id/x}", true, "has a { without its }"},
		{"/pet/}", true, "has a } without its {"},
		{"/pet/{}", true, "has an empty {}"},
		{"/pet/{{id}}", true, "has a { inside another {...}"},
		{"/x/{a}{b}", true, "has two parameters with nothing between them"},
		{"/x/{a}.{b}{c}/y", true, "has two parameters with nothing between them"},
		{"/pet/\nx", true, "control character"},
		{"/pet/\u0085", true, "control character"},
		{"/pet x", true, "contains a space"},
		{"/pet?x=1", true, `contains '?'`},
		{"/pet#x", true, `contains '#'`},
		{"/pet/\xff", true, "is not valid UTF-8"},
		{"/base/{id}", false, "contains { or }"},
		{"/base/v1", false, ""},
	}
	for _, tt := range tests {
		msg, hint := checkPath(tt.path, tt.templates)
		if (tt.err == "") != (msg == "") || !strings.Contains(msg, tt.err) || (msg != "" && hint == "") {
			t.Errorf("checkPath(%q, %v) = %q, %q; want %q", tt.path, tt.templates, msg, hint, tt.err)
		}
	}
}

func TestRouteKey(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"/", "/pet/{petId}", "GET /pet/{}"},
		{"/shop", "/pet/{id}", "GET /shop/pet/{}"},
		{"/shop/pet", "/{petId}", "GET /shop/pet/{}"},
		{"/a", "/{x}.{y}", "GET /a/{}.{}"},
		{"/shop", "/", "GET /shop"},
		{"/", "/", "GET /"},
	}
	for _, tt := range tests {
		if got := routeKey(tt.base, tt.path, "GET"); got != tt.want {
			t.Errorf("routeKey(%q, %q) = %q, want %q", tt.base, tt.path, got, tt.want)
		}
	}
}

// TestPathsOneRouteForTheRouterAreDuplicates protects the one grammar of
// path templates: the loader compares routes with the router's own key, so
// a path written once plainly and once percent-encoded, which the router
// takes for one route, is refused as a duplicate with its line, not left
// to the route-table safety net and its generic message.
func TestPathsOneRouteForTheRouterAreDuplicates(t *testing.T) {
	const def = `openapi: 3.0.3
info: {title: t, version: "1"}
x-wso2-basePath: /t
x-wso2-production-endpoints: {urls: [http://a.example.com]}
paths:
  /café/{id}:
    get:
      responses:
        "200": {description: ok}
  /caf%C3%A9/{name}:
    get:
      responses:
        "200": {description: ok}
`
	_, _, err := Parse("u.yaml", []byte(def))
	want := "u.yaml:7: GET /café/{id}: route GET /t/café/{id} is also served by GET /t/caf%C3%A9/{name} in this file (line 11); each method and path may be served once"
	var de *Error
	if !errors.As(err, &de) || !strings.HasPrefix(de.Error(), want) {
		t.Errorf("error:\n%v\nwant one starting with:\n%s", err, want)
	}
}
