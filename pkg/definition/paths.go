package definition

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// itemMethods returns the methods of each path's operations.
func itemMethods(doc *openapi3.T, keys []string) map[string][]string {
	out := make(map[string][]string, len(keys))
	for _, k := range keys {
		item := doc.Paths.Value(k)
		for _, m := range methods {
			if item.GetOperation(m) != nil {
				out[k] = append(out[k], m)
			}
		}
	}
	return out
}

// ambiguousPaths warns about paths that differ only in the names of their
// parameters (/a/{id} and /a/{name}) and share no method. OpenAPI calls
// them ambiguous, but the router matches one template and finds each
// method's operation, so nothing is ambiguous for the gateway. When they
// share a method, one route has two operations: crossCheck reports that as
// an error.
func (p *parser) ambiguousPaths(keys []string, byPath map[string][]string) {
	groups := map[string][]string{}
	var order []string
	for _, k := range keys {
		t := strings.TrimSpace(routeKey("/", k, ""))
		if _, ok := groups[t]; !ok {
			order = append(order, t)
		}
		groups[t] = append(groups[t], k)
	}
	pathsNode := get(p.root, "paths").val
	for _, t := range order {
		paths := groups[t]
		if len(paths) < 2 || sharesMethod(paths, byPath) {
			continue
		}
		first := get(pathsNode, paths[0]).key
		for _, other := range paths[1:] {
			p.warn(get(pathsNode, other).key, "path %s differs from %s (line %d) only in parameter names, which OpenAPI calls ambiguous; their methods differ, so the gateway serves each: name the parameters alike",
				showPath(other), showPath(paths[0]), lineOf(first))
		}
	}
}

// sharesMethod reports whether two of the paths have an operation with the same method.
func sharesMethod(paths []string, byPath map[string][]string) bool {
	var seen []string
	for _, k := range paths {
		for _, m := range byPath[k] {
			if slices.Contains(seen, m) {
				return true
			}
		}
		seen = append(seen, byPath[k]...)
	}
	return false
}

// duplicateRoutes refuses two operations of the definition on one route:
// the same method on paths that differ only in parameter names. crossCheck
// does the same across definitions.
func (p *parser) duplicateRoutes(d *loadedAPI) {
	first := map[string]int{}
	for i, r := range d.api.Resources {
		k := routeKey("/", r.Path, r.Method)
		j, dup := first[k]
		if !dup {
			first[k] = i
			continue
		}
		prev := d.api.Resources[j]
		p.collect(p.fail(d.nodes[i], r.Method+" "+showPath(r.Path),
			fmt.Sprintf("route %s %s is also served by %s %s in this file (line %d)", r.Method, spec.JoinPath(d.api.BasePath, r.Path), prev.Method, spec.JoinPath(d.api.BasePath, prev.Path), d.lines[j]),
			"each method and path may be served once: remove one, or name the parameters alike and merge them"))
	}
}
