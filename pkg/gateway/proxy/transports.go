package proxy

import (
	"github.com/valyala/fasthttp"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// transports is the set of listeners that serve a route, from the API's
// x-wso2-transports. The zero value serves both, so that the check costs
// one comparison on the request path of every API without the extension.
type transports uint8

const (
	anyTransport transports = iota
	httpOnly
	httpsOnly
)

// transportsOf reads spec.API.Transports.
func transportsOf(ts []string) transports {
	switch {
	case len(ts) != 1:
		return anyTransport
	case ts[0] == spec.TransportHTTPS:
		return httpsOnly
	case ts[0] == spec.TransportHTTP:
		return httpOnly
	}
	return anyTransport
}

// serves reports whether a request on ctx's listener may reach the route:
// a route of an https-only API answers 404 on the HTTP listener, and the
// reverse, as micro-gw 3.x did.
func (t transports) serves(ctx *fasthttp.RequestCtx) bool {
	return t == anyTransport || (t == httpsOnly) == ctx.IsTLS()
}
