package definition

import (
	"fmt"
	"log/slog"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/proxy"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// checkRouteTable builds the route table of defs with the runtime's own code,
// proxy.New (which builds the router), so that a gateway the build accepts
// always starts: the loader's checks (checkPath, crossCheck) give the better
// messages, this one catches whatever they miss. The failing resource is
// found by building the table again from a growing prefix of the resources.
func checkRouteTable(defs []*loadedAPI) error {
	total := 0
	for _, d := range defs {
		total += len(d.api.Resources)
	}
	err := buildRouteTable(defs, total)
	if err == nil {
		return nil
	}
	// The table of the first lo resources builds, that of the first hi
	// does not; narrow down to the resource that breaks it.
	lo, hi := 0, total
	if buildRouteTable(defs, 0) != nil {
		return fmt.Errorf("the gateway cannot build its route table: %w; this is a micro-gw bug, please report it", err)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if e := buildRouteTable(defs, mid); e != nil {
			hi, err = mid, e
		} else {
			lo = mid
		}
	}
	d, i := resourceAt(defs, hi-1)
	r := d.api.Resources[i]
	return &Error{
		File: d.file, Line: d.lines[i], Place: r.Method + " " + showPath(r.Path),
		Msg:  "the gateway could not route it: " + err.Error(),
		Hint: "change the path so that it differs from the other routes and holds only well-formed {name} parameters separated by fixed text",
		Err:  err,
	}
}

// buildRouteTable runs proxy.New over the first n resources of defs, in
// order, with every endpoint bound to its (default) URL as written.
func buildRouteTable(defs []*loadedAPI, n int) error {
	g := &spec.Gateway{}
	for _, d := range defs {
		api := d.api
		k := min(n, len(api.Resources))
		api.Resources = api.Resources[:k:k]
		n -= k
		g.APIs = append(g.APIs, api)
	}
	p, err := proxy.New(g, staticBinding, proxy.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	p.Close()
	return nil
}

// staticBinding binds an endpoint entry to the URL the definition gives it;
// for etcd(key, default) that is the default, which the gateway starts with.
func staticBinding(u spec.EndpointURL) (*endpoint.Binding, error) {
	t, err := endpoint.Parse(u.URL)
	if err != nil {
		return nil, err
	}
	return endpoint.NewBinding(t), nil
}

// resourceAt returns the definition and index of the n-th resource of defs,
// counting from 0 in order.
func resourceAt(defs []*loadedAPI, n int) (*loadedAPI, int) {
	for _, d := range defs {
		if n < len(d.api.Resources) {
			return d, n
		}
		n -= len(d.api.Resources)
	}
	panic("resourceAt: index out of range")
}
