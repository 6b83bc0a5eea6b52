// Package spec is the route model shared by the build side and the runtime.
//
// pkg/definition turns API definitions into a Gateway value, pkg/codegen
// compiles it into a program that embeds it as JSON (data, never code), and
// pkg/gateway serves it.
//
// Everything here is plain data with JSON tags so that the encoding is the
// contract between the two halves.
package spec

import (
	"encoding/json"
	"fmt"
)

// Endpoint list types, as micro-gw's x-wso2-*-endpoints write them.
const (
	TypeHTTP        = "http"
	TypeLoadBalance = "load_balance"
	TypeFailover    = "failover"
)

// Transports an API may be limited to (x-wso2-transports).
const (
	TransportHTTP  = "http"
	TransportHTTPS = "https"
)

// Gateway is everything one compiled gateway serves.
type Gateway struct {
	// Project is the micro-gw project name the gateway was built from.
	Project string `json:"project"`
	// Version is the micro-gw version that generated it.
	Version string `json:"version"`
	// Settings are the project's conf/gateway.conf values: runtime flag
	// name to value. They are the executable's defaults; environment
	// variables and command-line flags override them.
	Settings map[string]string `json:"settings,omitempty"`
	// Policies are the project's throttling policies (policies.yaml); nil
	// when the project has none and no API names a tier.
	Policies *Policies `json:"policies,omitempty"`
	APIs     []API     `json:"apis"`
}

// API is one API definition file.
type API struct {
	// File is the definition's file name inside api_definitions/.
	File    string `json:"file"`
	Title   string `json:"title"`
	Version string `json:"version"`
	// BasePath is the gateway-side prefix, always starting with "/" and
	// never ending with one unless it is exactly "/".
	BasePath string `json:"basePath"`
	// Production and Sandbox are the API-level endpoints (Sandbox may be nil).
	Production *Endpoints `json:"production,omitempty"`
	Sandbox    *Endpoints `json:"sandbox,omitempty"`
	CORS       *CORS      `json:"cors,omitempty"`
	// Transports lists the listeners that serve the API, TransportHTTP or
	// TransportHTTPS; empty means both. A request on another gets 404.
	Transports []string `json:"transports,omitempty"`
	// ThrottlingTier is the API-level x-wso2-throttling-tier; "" for none.
	ThrottlingTier string `json:"throttlingTier,omitempty"`
	// Validation holds what the API's validated resources refer to; nil
	// when no resource of the API has validation on.
	Validation *APIValidation `json:"validation,omitempty"`
	Resources  []Resource     `json:"resources"`
}

// Resource is one operation: a path template under the base path and a method.
type Resource struct {
	// Path is the OpenAPI path template, e.g. "/pet/{petId}".
	Path string `json:"path"`
	// Method is upper-case: GET, POST, ...
	Method      string `json:"method"`
	OperationID string `json:"operationId,omitempty"`
	// Production and Sandbox override the API-level endpoints when set.
	Production *Endpoints `json:"production,omitempty"`
	Sandbox    *Endpoints `json:"sandbox,omitempty"`
	// Security is the resource's effective security, resolved by the
	// build; nil means the default (EffectiveSecurity).
	Security *Security `json:"security,omitempty"`
	// ThrottlingTier is the resource's x-wso2-throttling-tier; "" for none.
	ThrottlingTier string `json:"throttlingTier,omitempty"`
	// Validation is set when the gateway validates the resource's requests
	// or responses against the definition (x-wso2-request-validation,
	// x-wso2-response-validation, or the request-validation and
	// response-validation settings); nil costs the request path nothing.
	Validation *Validation `json:"validation,omitempty"`
}

// Validation is one resource's part of request and response validation:
// which sides are checked, and the OpenAPI 3 operation they are checked
// against. It is data: the gateway decodes it with kin-openapi at start.
type Validation struct {
	Request  bool `json:"request,omitempty"`
	Response bool `json:"response,omitempty"`
	// Operation is an OpenAPI 3 operation object: its parameters (the
	// path item's included), requestBody and responses, and nothing else.
	// Its $refs point into the API's APIValidation.Components.
	Operation json.RawMessage `json:"operation"`
}

// APIValidation is what an API's validated operations share.
type APIValidation struct {
	// OpenAPI is the definition's OpenAPI version ("3.0.3", "3.1.0"; a
	// Swagger 2.0 file is converted to 3.0.3): 3.1 schemas are JSON
	// Schema 2020-12.
	OpenAPI string `json:"openapi"`
	// Components is an OpenAPI 3 components object holding every
	// component the validated operations refer to, and no other.
	Components json.RawMessage `json:"components,omitempty"`
}

// Endpoints is an endpoint list with its type and advanced configuration.
type Endpoints struct {
	// Name is set when the list came from a named x-wso2-endpoints entry.
	Name     string          `json:"name,omitempty"`
	Type     string          `json:"type"`
	URLs     []EndpointURL   `json:"urls"`
	Advanced *AdvancedConfig `json:"advanced,omitempty"`
}

// EndpointURL is a plain URL, or an etcd(key, default) entry when EtcdKey is set;
// URL is then the default.
type EndpointURL struct {
	URL     string `json:"url"`
	EtcdKey string `json:"etcdKey,omitempty"`
}

// String renders the entry the way a definition writes it.
func (e EndpointURL) String() string {
	if e.EtcdKey != "" {
		return fmt.Sprintf("etcd(%s, %s)", e.EtcdKey, e.URL)
	}
	return e.URL
}

// AdvancedConfig is micro-gw's advanceEndpointConfig.
type AdvancedConfig struct {
	TimeoutMillis  int             `json:"timeoutInMillis,omitempty"`
	Retry          *RetryConfig    `json:"retryConfig,omitempty"`
	CircuitBreaker *CircuitBreaker `json:"circuitBreaker,omitempty"`
}

// RetryConfig is advanceEndpointConfig.retryConfig.
type RetryConfig struct {
	Count                 int     `json:"count"`
	IntervalMillis        int     `json:"intervalInMillis"`
	BackOffFactor         float64 `json:"backOffFactor"`
	MaxWaitIntervalMillis int     `json:"maxWaitIntervalInMillis"`
	StatusCodes           []int   `json:"statusCodes,omitempty"`
}

// CircuitBreaker is advanceEndpointConfig.circuitBreaker.
type CircuitBreaker struct {
	RequestVolumeThreshold int     `json:"requestVolumeThreshold"`
	TimeWindowMillis       int     `json:"timeWindowInMillis"`
	BucketSizeMillis       int     `json:"bucketSizeInMillis"`
	FailureThreshold       float64 `json:"failureThreshold"`
	ResetTimeMillis        int     `json:"resetTimeInMillis"`
	StatusCodes            []int   `json:"statusCodes,omitempty"`
}

// CORS is x-wso2-cors.
type CORS struct {
	Enabled          bool     `json:"enabled"`
	AllowOrigins     []string `json:"allowOrigins,omitempty"`
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
}

// EffectiveProduction returns the production endpoints that serve r within api: the
// operation's own, else the API's. nil means none.
func (r *Resource) EffectiveProduction(api *API) *Endpoints {
	if r.Production != nil {
		return r.Production
	}
	return api.Production
}

// EffectiveSandbox returns the sandbox endpoints that serve r within api:
// the operation's own, else the API's. nil means none: a sandbox request
// is then refused, never sent to production.
func (r *Resource) EffectiveSandbox(api *API) *Endpoints {
	if r.Sandbox != nil {
		return r.Sandbox
	}
	return api.Sandbox
}

// JoinPath is the template the gateway routes for the resource path p
// under basePath: the resource "/" under "/shop" is "/shop", not "/shop/";
// under "/" it is p.
func JoinPath(basePath, p string) string {
	switch {
	case basePath == "/":
		return p
	case p == "/":
		return basePath
	}
	return basePath + p
}

// Active returns the URLs the gateway uses: every URL of a load_balance or
// failover list, the first only of an http one (micro-gw 3.x's rule; the
// build warns about the others).
func (e *Endpoints) Active() []EndpointURL {
	if e.Type == TypeHTTP && len(e.URLs) > 1 {
		return e.URLs[:1]
	}
	return e.URLs
}

// EndpointsAt says where an endpoint list is declared.
type EndpointsAt struct {
	API *API
	// Resource is nil for the API level.
	Resource *Resource
	Sandbox  bool
}

// EachEndpoints calls fn with every endpoint list of g, in declaration
// order: for each API, its API level and then its operations, production
// before sandbox. It is the one order every rule that picks "the first"
// follows.
func (g *Gateway) EachEndpoints(fn func(at EndpointsAt, eps *Endpoints)) {
	for i := range g.APIs {
		g.APIs[i].EachEndpoints(fn)
	}
}

// EachEndpoints is Gateway.EachEndpoints for one API.
func (a *API) EachEndpoints(fn func(at EndpointsAt, eps *Endpoints)) {
	visit := func(r *Resource, prod, sandbox *Endpoints) {
		if prod != nil {
			fn(EndpointsAt{API: a, Resource: r}, prod)
		}
		if sandbox != nil {
			fn(EndpointsAt{API: a, Resource: r, Sandbox: true}, sandbox)
		}
	}
	visit(nil, a.Production, a.Sandbox)
	for j := range a.Resources {
		r := &a.Resources[j]
		visit(r, r.Production, r.Sandbox)
	}
}

// EtcdDefault is the default URL an etcd key was first declared with.
type EtcdDefault struct {
	Key, URL string
	At       EndpointsAt
}

// EtcdConflict is a later declaration of a key with another default URL;
// while etcd holds no value for the key, the first default serves everywhere.
type EtcdConflict struct {
	First EtcdDefault
	Other EtcdDefault
}

// EtcdDefaults returns, in first-seen order, the first default of every etcd
// key (the one the gateway uses), and every later declaration with another
// default, once per key and URL.
func (g *Gateway) EtcdDefaults() (defaults []EtcdDefault, conflicts []EtcdConflict) {
	first := map[string]int{}
	reported := map[[2]string]bool{}
	g.EachEndpoints(func(at EndpointsAt, eps *Endpoints) {
		for _, u := range eps.URLs {
			if u.EtcdKey == "" {
				continue
			}
			d := EtcdDefault{Key: u.EtcdKey, URL: u.URL, At: at}
			i, seen := first[u.EtcdKey]
			switch {
			case !seen:
				first[u.EtcdKey] = len(defaults)
				defaults = append(defaults, d)
			case defaults[i].URL != u.URL && !reported[[2]string{u.EtcdKey, u.URL}]:
				reported[[2]string{u.EtcdKey, u.URL}] = true
				conflicts = append(conflicts, EtcdConflict{First: defaults[i], Other: d})
			}
		}
	})
	return defaults, conflicts
}

// Decode parses the JSON the generated program embeds.
func Decode(data []byte) (*Gateway, error) {
	var g Gateway
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("decode embedded route table: %w", err)
	}
	return &g, nil
}
