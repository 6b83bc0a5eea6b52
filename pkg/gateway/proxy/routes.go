package proxy

import (
	"fmt"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/micro-gw/micro-gw/pkg/gateway/router"
	"github.com/micro-gw/micro-gw/pkg/gateway/throttle"
	"github.com/micro-gw/micro-gw/pkg/gateway/traffic"
	"github.com/micro-gw/micro-gw/pkg/gateway/validate"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Bind returns the Binding for one endpoint entry: a fixed one for a plain
// URL, the discovery resolver's for an etcd(key, default) entry.
type Bind func(u spec.EndpointURL) (*endpoint.Binding, error)

// route is what a matched resource needs to forward a request.
type route struct {
	// base is the number of segments of the API's base path, which is
	// stripped from the request path.
	base int
	// production is the resource's effective production endpoint list; nil
	// when it has none (503).
	production *endpointSet
	// cors is the API's CORS configuration; nil when CORS is off.
	cors *cors
	// allow is set on the OPTIONS routes added for CORS preflights where
	// the definition declares no OPTIONS: the path's own methods.
	allow string
	// sandbox is the resource's effective sandbox endpoint list, resolved
	// and followed but not used until authentication selects it by key type.
	sandbox *endpointSet
	// transports limits the listeners that serve the route (transports.go).
	transports transports
	// guard decides who may call the route (package auth); never nil.
	guard *auth.Guard
	// api and version name the route's API for subscriptions.
	api, version string
	// plan is the route's throttling (package throttle); nil when no tier
	// can limit it.
	plan *throttle.Plan
	// traffic counts the API's requests for the admin dashboard; nil
	// counts nothing.
	traffic *traffic.Meter
	// validator checks requests and responses against the definition
	// (package validate); nil when validation is off for the route.
	validator *validate.Validator
	// resource is the route's path template, base path included, as
	// metrics and the access log name it.
	resource string
	// metrics are the route's metric children; nil with metrics off.
	metrics *metrics.Route
}

// New builds the routes of g. bind supplies the Binding of every endpoint entry.
func New(g *spec.Gateway, bind Bind, opts Options) (*Proxy, error) {
	opts.setDefaults()
	p := &Proxy{clients: &clients{opts: opts}, opts: opts, log: opts.Logger, ids: newRequestIDs(),
		unmatched: opts.Metrics.Route("", "", "")}
	sets := map[*spec.Endpoints]*endpointSet{}
	set := func(eps *spec.Endpoints) (*endpointSet, error) {
		if eps == nil || len(eps.URLs) == 0 {
			return nil, nil
		}
		if s, ok := sets[eps]; ok {
			return s, nil
		}
		s, err := newEndpointSet(eps, bind, p.clients, opts.Timeout)
		sets[eps] = s
		if s != nil {
			p.sets = append(p.sets, s)
		}
		return s, err
	}
	var entries []router.Entry[*route]
	for i := range g.APIs {
		api := &g.APIs[i]
		base := segments(api.BasePath)
		c := newCORS(api.CORS)
		if c != nil && len(api.CORS.AllowOrigins) == 0 {
			p.log.Warn("x-wso2-cors is enabled with no accessControlAllowOrigins, so no origin gets CORS headers", "api", api.Title)
		}
		if c != nil && c.anyOrigin && api.CORS.AllowCredentials {
			p.log.Warn("x-wso2-cors allows any origin (*) with credentials; credentials are not allowed, or every website could read the API with the user's cookies: list the origins instead", "api", api.Title)
		}
		validators, err := validate.ForAPI(api, validate.Options{MaxBody: opts.MaxValidatedBodyBytes, Log: p.log})
		if err != nil {
			return nil, fmt.Errorf("api %q (%s): %w", api.Title, api.File, err)
		}
		for j := range api.Resources {
			res := &api.Resources[j]
			prod, err := set(res.EffectiveProduction(api))
			if err != nil {
				return nil, fmt.Errorf("api %q (%s), %s %s: %w", api.Title, api.File, res.Method, res.Path, err)
			}
			rt := &route{base: base, production: prod, cors: c, transports: transportsOf(api.Transports),
				guard: auth.Compile(res.EffectiveSecurity(), api, opts.Auth), api: api.Title, version: api.Version, traffic: opts.Traffic.API(i),
				validator: validators[j]}
			if rt.plan, err = plan(opts, api, res); err != nil {
				return nil, fmt.Errorf("api %q (%s), %s %s: %w", api.Title, api.File, res.Method, res.Path, err)
			}
			if rt.sandbox, err = set(res.EffectiveSandbox(api)); err != nil {
				return nil, fmt.Errorf("api %q (%s), %s %s: sandbox %w", api.Title, api.File, res.Method, res.Path, err)
			}
			if prod == nil {
				p.log.Warn("resource has no production endpoint; it will answer 503", "api", api.Title, "method", res.Method, "path", api.BasePath+res.Path)
			}
			rt.resource = spec.JoinPath(api.BasePath, res.Path)
			rt.metrics = opts.Metrics.Route(api.Title, rt.resource, res.Method)
			entries = append(entries, router.Entry[*route]{Path: rt.resource, Method: res.Method, Value: rt})
		}
	}
	entries = append(entries, preflightRoutes(entries)...)
	r, err := router.New(entries)
	if err != nil {
		return nil, fmt.Errorf("build route table: %w", err)
	}
	p.routes = r
	return p, nil
}

// plan compiles the throttling of res in api, or nil when nothing can
// limit it.
func plan(opts Options, api *spec.API, res *spec.Resource) (*throttle.Plan, error) {
	if opts.Throttle == nil || opts.Policies == nil {
		return nil, nil
	}
	pl, err := opts.Throttle.Plan(opts.Policies, throttle.Route{
		API: api.Title + ":" + api.Version, Resource: res.Method + " " + res.Path,
		ResourceTier: res.ThrottlingTier, APITier: api.ThrottlingTier, Open: res.EffectiveSecurity().Disabled,
	})
	if err != nil || !pl.Limited() {
		return nil, err
	}
	return pl, nil
}
