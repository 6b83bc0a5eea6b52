package definition

import (
	"errors"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// def is a loaded definition with one GET resource per path, on lines 10,
// 11, ..., as the loader would hand it to the cross-checks.
func def(file, basePath string, paths ...string) *loadedAPI {
	d := &loadedAPI{file: file, api: spec.API{File: file, Title: file, BasePath: basePath,
		Production: &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: "http://127.0.0.1:9/v1"}}}}}
	for i, p := range paths {
		d.api.Resources = append(d.api.Resources, spec.Resource{Path: p, Method: "GET"})
		d.lines = append(d.lines, 10+i)
	}
	return d
}

// TestRouteTableCheckedWithRuntimeRouter protects the promise that a built
// gateway starts: the build runs the runtime's own route-table code over
// what the loader accepted, and a route it refuses becomes a build error
// naming the file, the line and the operation. The definitions here skip
// the loader's own checks, as a gap in them would.
func TestRouteTableCheckedWithRuntimeRouter(t *testing.T) {
	tests := []struct {
		name string
		defs []*loadedAPI
		want string // the error text; "" for none
	}{
		{"accepted", []*loadedAPI{def("a.yaml", "/a", "/x/{id}", "/x/{id}.json", "/"), def("b.yaml", "/", "/b/{x}-{y}")}, ""},
		{"adjacent parameters", []*loadedAPI{def("a.yaml", "/a", "/ok", "/x/{a}{b}", "/z")},
			`a.yaml:11: GET /x/{a}{b}: the gateway could not route it: build route table: route GET "/a/x/{a}{b}": segment "{a}{b}" has two parameters with nothing between them; change the path`},
		{"same route across base paths", []*loadedAPI{def("a.yaml", "/", "/one", "/shop"), def("b.yaml", "/shop", "/")},
			`b.yaml:10: GET /: the gateway could not route it: build route table: route GET "/shop" duplicates GET "/shop"; change the path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRouteTable(tt.defs)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var de *Error
			if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant a *Error starting with\n%s", err, tt.want)
			}
		})
	}
}

// FuzzLoaderRoutesStartGateway protects the agreement between the loader's
// path grammar (checkPath, routeKey) and the runtime's router: for two
// resources under any base paths, whatever the loader accepts, the gateway
// can route, and two routes conflict for the loader exactly when they
// conflict for the router. `go test` runs the seeds; `go test -fuzz` looks
// for more.
func FuzzLoaderRoutesStartGateway(f *testing.F) {
	seeds := [][4]string{
		{"/", "/x/{a}{b}", "/b", "/c"},
		{"/", "/shop", "/shop", "/"},
		{"/a", "/b/c", "/a/b", "/c"},
		{"/shop", "/pet/{id}", "/shop", "/pet/{petId}"},
		{"/a", "/{x}.{y}", "/a", "/{x}.json"},
		{"/a", "/{x}", "/a", "/{x}/"},
		{"/a", "//", "/", "/a/"},
		{"/v1", "/files/{name}.{ext}", "/v1", "/files/{name}"},
		{"/", "/x/{a}b{c}", "/x", "/{a}b{c}"},
		{"/", "/}", "/", "/{"},
		{"/", "/{a}", "/", "/%7Ba%7D"},
		{"/caf\u00e9", "/\u00e9/{x}", "/", "/caf\u00e9/\u00e9/{y}"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, baseA, pathA, baseB, pathB string) {
		baseA, baseB = normalizeBasePath(baseA), normalizeBasePath(baseB)
		for _, bp := range []string{baseA, baseB} {
			if msg, _ := checkPath(bp, false); msg != "" {
				return
			}
		}
		for _, p := range []string{pathA, pathB} {
			if msg, _ := checkPath(p, true); msg != "" {
				if err := checkRouteTable([]*loadedAPI{def("a.yaml", "/", p)}); err == nil && strings.HasPrefix(msg, "has ") {
					// Stricter than the router about braces is a bug too:
					// the build would refuse a route the gateway serves.
					t.Errorf("checkPath(%q) refuses it (%s) but the router accepts it", p, msg)
				}
				return
			}
			if err := checkRouteTable([]*loadedAPI{def("a.yaml", baseA, p)}); err != nil {
				t.Fatalf("the loader accepts %q under %q, the router does not: %v", p, baseA, err)
			}
		}
		var defs []*loadedAPI
		var loader error
		if baseA == baseB {
			if pathA == pathB {
				return // one path key, one resource
			}
			defs = []*loadedAPI{def("a.yaml", baseA, pathA, pathB)}
			// Within one file, duplicateRoutes compares the same keys.
			if routeKey("/", pathA, "GET") == routeKey("/", pathB, "GET") {
				loader = errors.New("duplicate route in one file")
			}
		} else {
			defs = []*loadedAPI{def("a.yaml", baseA, pathA), def("b.yaml", baseB, pathB)}
			if cc := crossCheck(defs); cc != nil {
				loader = cc
			}
		}
		router := checkRouteTable(defs)
		if (loader == nil) != (router == nil) {
			t.Fatalf("%q%q and %q%q: the loader says %v, the router %v", baseA, pathA, baseB, pathB, loader, router)
		}
	})
}
