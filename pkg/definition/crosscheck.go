package definition

import (
	"fmt"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// crossCheck refuses two APIs with one base path, and two resources with one route.
func crossCheck(defs []*loadedAPI) *Diagnostics {
	var errs []*Error
	type origin struct {
		d *loadedAPI
		i int
	}
	bases := map[string]*loadedAPI{}
	routes := map[string]origin{}
	for _, d := range defs {
		if prev, ok := bases[d.api.BasePath]; ok {
			errs = append(errs, &Error{
				File: d.file, Line: d.basePathLine, Place: "API level",
				Msg:  fmt.Sprintf("base path %q is also the base path of %s", d.api.BasePath, prev.file),
				Hint: "give each API its own x-wso2-basePath",
			})
			continue
		}
		bases[d.api.BasePath] = d
		for i, r := range d.api.Resources {
			k := routeKey(d.api.BasePath, r.Path, r.Method)
			prev, ok := routes[k]
			if !ok {
				routes[k] = origin{d, i}
				continue
			}
			if prev.d == d {
				continue // reported by duplicateRoutes
			}
			pr := prev.d.api.Resources[prev.i]
			where := prev.d.file
			if pl := prev.d.lines[prev.i]; pl > 0 {
				where += fmt.Sprintf(" (line %d)", pl)
			}
			errs = append(errs, &Error{
				File: d.file, Line: d.lines[i], Place: r.Method + " " + r.Path,
				Msg:  fmt.Sprintf("route %s %s is also served by %s %s in %s", r.Method, spec.JoinPath(d.api.BasePath, r.Path), pr.Method, spec.JoinPath(prev.d.api.BasePath, pr.Path), where),
				Hint: "each method and path may be served once: remove one, or change a base path",
			})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &Diagnostics{Errors: errs}
}

// etcdDefaultConflicts warns about an etcd key declared with different
// default URLs: while etcd holds no value for it, the gateway uses the first
// (spec.Gateway.EtcdDefaults says which), so the others are never used.
func etcdDefaultConflicts(defs []*loadedAPI) []Warning {
	g := &spec.Gateway{APIs: make([]spec.API, len(defs))}
	defOf := make(map[*spec.API]*loadedAPI, len(defs)) // the definition each API of g came from
	for i, d := range defs {
		g.APIs[i] = d.api
		defOf[&g.APIs[i]] = d
	}
	_, conflicts := g.EtcdDefaults()
	ws := make([]Warning, 0, len(conflicts))
	for _, c := range conflicts {
		first, other := defOf[c.First.At.API], defOf[c.Other.At.API]
		ws = append(ws, Warning{File: other.file, Line: other.etcdLines[[2]string{c.Other.Key, c.Other.URL}], Msg: fmt.Sprintf(
			"etcd key %q has the default %s here but %s in %s:%d; while etcd holds no value for it, every place uses the first, %s",
			c.Other.Key, c.Other.URL, c.First.URL, first.file, first.etcdLines[[2]string{c.First.Key, c.First.URL}], c.First.URL)})
	}
	return ws
}
