package proxy

import (
	"bytes"
	"slices"
	"strings"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/gateway/router"
	"github.com/micro-gw/micro-gw/pkg/spec"
	"github.com/valyala/fasthttp"
)

// cors is an API's x-wso2-cors, prepared for the request path.
type cors struct {
	origins     [][]byte // allowed origins; see anyOrigin
	anyOrigin   bool     // "*" listed
	credentials bool
	// wildcard answers "Access-Control-Allow-Origin: *": any origin and no
	// credentials. Otherwise the request's origin is echoed, with Vary: Origin.
	wildcard bool

	methods   [][]byte
	anyMethod bool // "*" listed, or none: the requested method is echoed
	allowMeth string
	headers   [][]byte
	anyHeader bool // "*" listed, or none: the requested headers are echoed
	allowHdr  string
	expose    string
}

// newCORS returns nil when CORS is off (c absent or not enabled).
func newCORS(c *spec.CORS) *cors {
	if c == nil || !c.Enabled {
		return nil
	}
	r := &cors{credentials: c.AllowCredentials}
	for _, o := range c.AllowOrigins {
		if o = strings.TrimSpace(o); o == "*" {
			r.anyOrigin = true
		} else if o != "" {
			r.origins = append(r.origins, []byte(o))
		}
	}
	if r.anyOrigin {
		// Reflecting any origin with credentials would let every website
		// read the API as the user; "*" never carries credentials.
		r.credentials = false
	}
	r.wildcard = r.anyOrigin
	var names []string
	r.methods, r.anyMethod, names = tokens(c.AllowMethods, strings.ToUpper)
	r.allowMeth = strings.Join(names, ", ")
	r.headers, r.anyHeader, names = tokens(c.AllowHeaders, func(s string) string { return s })
	r.allowHdr = strings.Join(names, ", ")
	r.expose = strings.Join(c.ExposeHeaders, ", ")
	return r
}

// tokens trims and normalizes a configured list; any is true when it holds
// "*" or nothing.
func tokens(list []string, norm func(string) string) (out [][]byte, all bool, names []string) {
	for _, s := range list {
		s = norm(strings.TrimSpace(s))
		switch s {
		case "":
		case "*":
			all = true
		default:
			out = append(out, []byte(s))
			names = append(names, s)
		}
	}
	return out, all || len(out) == 0, names
}

// CORS header names fasthttp does not define.
const (
	hdrOrigin        = "Origin"
	hdrRequestMethod = "Access-Control-Request-Method"
	hdrRequestHdrs   = "Access-Control-Request-Headers"
)

// intercept answers what the gateway answers itself for a CORS-enabled API:
// preflight requests, and plain OPTIONS requests on the OPTIONS routes added
// for preflights (a 405, as without CORS). It reports whether it answered.
func (c *cors) intercept(ctx *fasthttp.RequestCtx, rt *route) bool {
	if !ctx.IsOptions() {
		return false
	}
	h := &ctx.Request.Header
	origin, method := h.Peek(hdrOrigin), h.Peek(hdrRequestMethod)
	if len(origin) == 0 || len(method) == 0 {
		if rt.allow == "" {
			return false // a declared OPTIONS operation: proxied
		}
		ctx.Response.Header.Set(fasthttp.HeaderAllow, rt.allow)
		writeFault(ctx, fault.MethodNotAllowed)
		c.decorate(h, &ctx.Response.Header)
		return true
	}
	// A preflight is answered 200 with no body, as micro-gw did; a refused
	// one carries no CORS headers, which makes the browser give up.
	ctx.SetStatusCode(fasthttp.StatusOK)
	rh := &ctx.Response.Header
	if !c.wildcard {
		rh.Add(fasthttp.HeaderVary, hdrOrigin)
	}
	reqHeaders := h.Peek(hdrRequestHdrs)
	if !c.originAllowed(origin) || !c.methodAllowed(method) || !c.headersAllowed(reqHeaders) {
		return true
	}
	c.setOrigin(origin, rh)
	if c.anyMethod {
		rh.SetBytesV(fasthttp.HeaderAccessControlAllowMethods, method)
	} else {
		rh.Set(fasthttp.HeaderAccessControlAllowMethods, c.allowMeth)
	}
	switch {
	case !c.anyHeader:
		rh.Set(fasthttp.HeaderAccessControlAllowHeaders, c.allowHdr)
	case len(reqHeaders) > 0:
		rh.SetBytesV(fasthttp.HeaderAccessControlAllowHeaders, reqHeaders)
	}
	return true
}

// decorate sets the CORS headers of an actual response (backend answer or
// fault) for the request with header rq. The gateway is the API's one CORS
// authority, so the backend's own CORS headers are dropped.
func (c *cors) decorate(rq *fasthttp.RequestHeader, rh *fasthttp.ResponseHeader) {
	rh.Del(fasthttp.HeaderAccessControlAllowOrigin)
	rh.Del(fasthttp.HeaderAccessControlAllowCredentials)
	rh.Del(fasthttp.HeaderAccessControlExposeHeaders)
	origin := rq.Peek(hdrOrigin)
	if len(origin) == 0 {
		return
	}
	if !c.wildcard {
		addVaryOrigin(rh)
	}
	if !c.originAllowed(origin) {
		return
	}
	c.setOrigin(origin, rh)
	if c.expose != "" {
		rh.Set(fasthttp.HeaderAccessControlExposeHeaders, c.expose)
	}
}

func (c *cors) setOrigin(origin []byte, rh *fasthttp.ResponseHeader) {
	if c.wildcard {
		rh.Set(fasthttp.HeaderAccessControlAllowOrigin, "*")
		return
	}
	rh.SetBytesV(fasthttp.HeaderAccessControlAllowOrigin, origin)
	if c.credentials {
		rh.Set(fasthttp.HeaderAccessControlAllowCredentials, "true")
	}
}

// originAllowed compares origins case-insensitively (scheme and host are).
func (c *cors) originAllowed(origin []byte) bool {
	return c.anyOrigin || containsFunc(c.origins, origin, bytes.EqualFold)
}

func (c *cors) methodAllowed(m []byte) bool {
	return c.anyMethod || containsFunc(c.methods, m, bytes.Equal)
}

// containsFunc reports whether eq(x, v) holds for an x in list.
func containsFunc(list [][]byte, v []byte, eq func(a, b []byte) bool) bool {
	for _, x := range list {
		if eq(x, v) {
			return true
		}
	}
	return false
}

// headersAllowed checks the comma-separated Access-Control-Request-Headers.
func (c *cors) headersAllowed(list []byte) bool {
	if c.anyHeader {
		return true
	}
	for len(list) > 0 {
		var tok []byte
		tok, list = nextToken(list)
		if len(tok) > 0 && !slices.ContainsFunc(c.headers, func(a []byte) bool { return bytes.EqualFold(a, tok) }) {
			return false
		}
	}
	return true
}

// preflightRoutes adds an OPTIONS route to every path of a CORS-enabled API
// that declares no OPTIONS operation, so that the gateway can answer its
// preflights. Such a route answers other OPTIONS requests 405, listing the
// path's methods.
func preflightRoutes(entries []router.Entry[*route]) []router.Entry[*route] {
	type group struct {
		entry      router.Entry[*route]
		methods    []string
		hasOptions bool
	}
	groups := map[string]*group{}
	var order []string
	for _, e := range entries {
		k := templateKey(e.Path)
		g := groups[k]
		if g == nil {
			g = &group{entry: e}
			groups[k] = g
			order = append(order, k)
		}
		g.methods = append(g.methods, e.Method)
		g.hasOptions = g.hasOptions || e.Method == fasthttp.MethodOptions
	}
	var out []router.Entry[*route]
	for _, k := range order {
		g := groups[k]
		if g.hasOptions || g.entry.Value.cors == nil {
			continue
		}
		slices.Sort(g.methods)
		rt := &route{base: g.entry.Value.base, cors: g.entry.Value.cors, allow: strings.Join(g.methods, ", "), transports: g.entry.Value.transports}
		out = append(out, router.Entry[*route]{Path: g.entry.Path, Method: fasthttp.MethodOptions, Value: rt})
	}
	return out
}

// templateKey writes every parameter of a path template as "{}", so that
// templates differing only in parameter names compare equal, as the router
// treats them.
func templateKey(path string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(path, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(path[open:], '}')
		if end < 0 {
			break
		}
		b.WriteString(path[:open+1])
		path = path[open+end:]
	}
	b.WriteString(path)
	return b.String()
}

// addVaryOrigin adds Origin to the response's Vary header unless the
// backend's Vary already names it.
func addVaryOrigin(rh *fasthttp.ResponseHeader) {
	for list := rh.Peek(fasthttp.HeaderVary); len(list) > 0; {
		var tok []byte
		tok, list = nextToken(list)
		if equalFoldBytes(tok, hdrOrigin) {
			return
		}
	}
	rh.Add(fasthttp.HeaderVary, hdrOrigin)
}
