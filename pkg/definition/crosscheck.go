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
				Msg:  fmt.Sprintf("route %s %s is also served by %s %s in %s", r.Method, fullPath(d.api.BasePath, r.Path), pr.Method, fullPath(prev.d.api.BasePath, pr.Path), where),
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
// default URLs: the gateway uses the first one (spec.Gateway.EtcdDefaults),
// in the order APIs, API level before operations, production before sandbox.
func etcdDefaultConflicts(defs []*loadedAPI) []Warning {
	type first struct {
		def, file string
		line      int
	}
	seen := map[string]first{}
	warned := map[[2]string]bool{}
	var ws []Warning
	for _, d := range defs {
		visit := func(e *spec.Endpoints) {
			if e == nil {
				return
			}
			for _, u := range e.URLs {
				if u.EtcdKey == "" {
					continue
				}
				line := d.etcdLines[[2]string{u.EtcdKey, u.URL}]
				f, ok := seen[u.EtcdKey]
				switch {
				case !ok:
					seen[u.EtcdKey] = first{u.URL, d.file, line}
				case f.def != u.URL && !warned[[2]string{u.EtcdKey, u.URL}]:
					warned[[2]string{u.EtcdKey, u.URL}] = true
					ws = append(ws, Warning{File: d.file, Line: line, Msg: fmt.Sprintf(
						"etcd key %q has the default %s here but %s in %s:%d; while etcd holds no value for it, every place uses the first, %s",
						u.EtcdKey, u.URL, f.def, f.file, f.line, f.def)})
				}
			}
		}
		visit(d.api.Production)
		visit(d.api.Sandbox)
		for _, r := range d.api.Resources {
			visit(r.Production)
			visit(r.Sandbox)
		}
	}
	return ws
}
