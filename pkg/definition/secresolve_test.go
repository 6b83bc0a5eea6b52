package definition

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// wantSecurity checks the effective security of each resource, written
// "GET /x: <spec.Security.String()>", in the resources' order.
func wantSecurity(t *testing.T, rs []spec.Resource, want ...string) {
	t.Helper()
	var got []string
	for _, r := range rs {
		got = append(got, r.Method+" "+r.Path+": "+r.EffectiveSecurity().String())
	}
	wantExactly(t, got, want...)
}

// secCase is one definition with the security of each operation it must
// resolve to, or the errors it must fail with, and its warnings.
type secCase struct {
	name, def string
	// sec is "GET /x: <Security.String()>" per resource, in order.
	sec []string
	// lines are the warnings of a definition that builds, or every
	// diagnostic line of one that fails (errs set).
	lines []string
	errs  bool
}

func runSecCases(t *testing.T, tests []secCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.errs {
				wantExactly(t, loadErrors(t, tc.def).Lines(), tc.lines...)
				return
			}
			api, ws := loadWarnings(t, tc.def)
			wantExactly(t, ws, tc.lines...)
			wantSecurity(t, api.Resources, tc.sec...)
		})
	}
}

const defaultOAuth2 = "oauth2 (default, as micro-gw 3.x; add x-wso2-disable-security: true to serve it open)"

// TestSecurityIsOAuth2UnlessDisabled protects micro-gw 3.x's secure
// default: an operation with no security declared needs an OAuth2 token,
// and only x-wso2-disable-security: true serves it open, at API or
// operation level, an operation's false re-enabling it.
func TestSecurityIsOAuth2UnlessDisabled(t *testing.T) {
	runSecCases(t, []secCase{
		{name: "nothing declared", def: endpointAPI + `paths:
  /x:
    get: {responses: {'200': {description: ok}}}
`, sec: []string{"GET /x: " + defaultOAuth2}},
		{name: "disabled at API level, re-enabled on one operation", def: endpointAPI + `x-wso2-disable-security: true
paths:
  /x:
    get: {responses: {'200': {description: ok}}}
    post:
      x-wso2-disable-security: false
      responses: {'200': {description: ok}}
`, sec: []string{"GET /x: open (x-wso2-disable-security)", "POST /x: " + defaultOAuth2}},
		{name: "disabled on one operation", def: endpointAPI + `paths:
  /x:
    get:
      x-wso2-disable-security: true
      responses: {'200': {description: ok}}
    put: {responses: {'200': {description: ok}}}
`, sec: []string{"GET /x: open (x-wso2-disable-security)", "PUT /x: " + defaultOAuth2}},
		{name: "not a boolean", errs: true, def: endpointAPI + `x-wso2-disable-security: "yes"
paths:
  /x:
    get:
      x-wso2-disable-security: 1
      responses: {'200': {description: ok}}
`, lines: []string{
			`d.yaml:5: API level: x-wso2-disable-security must be true or false, got "yes"; write x-wso2-disable-security: true`,
			`d.yaml:9: GET /x: x-wso2-disable-security must be true or false, got "1"; write x-wso2-disable-security: true`,
		}},
		{name: "application security under an API that disables security", def: endpointAPI + `x-wso2-disable-security: true
paths:
  /x:
    get:
      x-wso2-application-security: {security-types: [oauth2]}
      responses: {'200': {description: ok}}
`, sec: []string{"GET /x: open (x-wso2-disable-security)"}, lines: []string{
			`d.yaml:9: GET /x: x-wso2-application-security is not applied: x-wso2-disable-security: true (line 5) serves the operation open; write x-wso2-disable-security: false next to it to apply it`,
		}},
	})
}

// microGW3Schemes are the security schemes of a micro-gw 3.x sample:
// OAuth2 with scopes, an API key in a header, basic auth.
const microGW3Schemes = `components:
  securitySchemes:
    petstore_auth:
      type: oauth2
      flows:
        implicit:
          authorizationUrl: https://auth.example.com/authorize
          scopes: {"read:pets": read, "write:pets": write}
    api_key: {type: apiKey, in: header, name: X-API-Key}
    basicAuth: {type: http, scheme: basic}
`

// TestOpenAPISecurityIsEnforcedAsDeclared protects the reading of OpenAPI
// security as micro-gw 3.x definitions write it: entries are OR, the
// schemes of one entry AND; an operation's list replaces the document's;
// each scheme type maps to the credential it names.
func TestOpenAPISecurityIsEnforcedAsDeclared(t *testing.T) {
	runSecCases(t, []secCase{
		{name: "micro-gw 3.x sample: oauth2 scopes, api key, basic", def: endpointAPI + microGW3Schemes + `security:
  - petstore_auth: ["read:pets"]
paths:
  /pet/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /pet:
    post:
      security:
        - api_key: []
        - basicAuth: []
      responses: {'200': {description: ok}}
    put:
      security:
        - petstore_auth: ["write:pets", "read:pets"]
          api_key: []
      responses: {'200': {description: ok}}
`, sec: []string{
			"POST /pet: apikey(header X-API-Key) | basic",
			"PUT /pet: oauth2[write:pets read:pets] + apikey(header X-API-Key)",
			"GET /pet/{id}: oauth2[read:pets]",
		}},
		{name: "bearer, openIdConnect and a query key", def: endpointAPI + `components:
  securitySchemes:
    jwt: {type: http, scheme: Bearer, bearerFormat: JWT}
    oidc: {type: openIdConnect, openIdConnectUrl: https://id.example.com/.well-known/openid-configuration}
    key: {type: apiKey, in: query, name: apikey}
paths:
  /x:
    get:
      security: [{jwt: []}, {oidc: [profile]}, {key: []}]
      responses: {'200': {description: ok}}
`, sec: []string{"GET /x: oauth2 | oauth2[profile] | apikey(query apikey)"}},
		{name: "digest and cookie keys are errors at their lines", errs: true, def: endpointAPI + `components:
  securitySchemes:
    dig: {type: http, scheme: digest}
    cookie: {type: apiKey, in: cookie, name: session}
    unused: {type: http, scheme: hoba}
paths:
  /x:
    get:
      security: [{dig: []}, {cookie: []}]
      responses: {'200': {description: ok}}
    put:
      security: [{dig: []}]
      responses: {'200': {description: ok}}
`, lines: []string{
			`d.yaml:7: security scheme "dig" uses the http scheme "digest", which is not supported; use basic or bearer; change the scheme, or serve the operations open with x-wso2-disable-security: true`,
			`d.yaml:8: security scheme "cookie" sends the API key in a cookie, which is not supported; send it in a header or a query parameter: in: header`,
		}},
		{name: "undefined scheme is oauth2 with its scopes", def: endpointAPI + `security: [{auth: [admin]}]
paths:
  /x:
    get: {responses: {'200': {description: ok}}}
    put: {responses: {'200': {description: ok}}}
`, sec: []string{"GET /x: oauth2[admin]", "PUT /x: oauth2[admin]"}, lines: []string{
			`d.yaml:5: security scheme "auth" is not defined; it is treated as oauth2 (micro-gw 3.x treated security as OAuth2), so an OAuth2 bearer token with scopes admin is required; define it under components.securitySchemes`,
		}},
		{name: "empty security list keeps the default", def: endpointAPI + `paths:
  /x:
    get:
      security: []
      responses: {'200': {description: ok}}
`, sec: []string{"GET /x: " + defaultOAuth2}, lines: []string{
			`d.yaml:8: GET /x: an empty security requirement does not serve the operation open in micro-gw; use x-wso2-disable-security: true (it is ignored, so the other requirements or the default OAuth2 token apply)`,
		}},
		{name: "empty alternative is dropped", def: endpointAPI + microGW3Schemes + `security:
  - {}
  - petstore_auth: ["read:pets"]
paths:
  /x:
    get: {responses: {'200': {description: ok}}}
`, sec: []string{"GET /x: oauth2[read:pets]"}, lines: []string{
			`d.yaml:16: an empty security requirement does not serve the operation open in micro-gw; use x-wso2-disable-security: true (it is ignored, so the other requirements or the default OAuth2 token apply)`,
		}},
		{name: "Swagger 2.0 securityDefinitions", def: `swagger: "2.0"
info: {title: t, version: "1"}
host: 127.0.0.1:8081
basePath: /v2
securityDefinitions:
  basic: {type: basic}
  key: {type: apiKey, in: header, name: X-Key}
  oauth: {type: oauth2, flow: implicit, authorizationUrl: "https://a.example.com", scopes: {read: r}}
security: [{oauth: [read]}]
paths:
  /x:
    get: {responses: {'200': {description: ok}}}
    post:
      security: [{basic: [], key: []}]
      responses: {'200': {description: ok}}
`, sec: []string{"GET /x: oauth2[read]", "POST /x: basic + apikey(header X-Key)"}},
	})
}

// TestApplicationSecurityPicksTheCredentials protects
// x-wso2-application-security: its types decide the alternatives, taking
// scopes and API key schemes from the OpenAPI security; an operation's
// replaces the API's; each mistake is an error at its line.
func TestApplicationSecurityPicksTheCredentials(t *testing.T) {
	runSecCases(t, []secCase{
		{name: "types with the declared scopes and keys", def: endpointAPI + microGW3Schemes + `x-wso2-application-security:
  security-types: [oauth2, basic_auth, api_key]
  optional: false
paths:
  /x:
    get:
      security: [{petstore_auth: ["read:pets"]}, {petstore_auth: ["write:pets"], api_key: []}]
      responses: {'200': {description: ok}}
    put:
      x-wso2-application-security: {security-types: [api_key], optional: true}
      responses: {'200': {description: ok}}
`, sec: []string{
			"GET /x: oauth2[read:pets write:pets] | basic | apikey(header X-API-Key)",
			"PUT /x: apikey(header X-API-Key) (optional: requests without credentials pass)",
		}},
		{name: "api_key without any apiKey scheme", errs: true, def: endpointAPI + `paths:
  /x:
    get:
      x-wso2-application-security:
        security-types: [api_key]
      responses: {'200': {description: ok}}
`, lines: []string{
			`d.yaml:9: GET /x: x-wso2-application-security lists api_key, but the definition defines no apiKey security scheme to say where the key is sent; define an apiKey security scheme under components.securitySchemes, e.g. api_key: {type: apiKey, in: header, name: X-API-Key}`,
		}},
		{name: "unknown and missing types", errs: true, def: endpointAPI + `x-wso2-application-security:
  security-types: [oauth2, jwt]
paths:
  /x:
    get:
      x-wso2-application-security: {security-types: []}
      responses: {'200': {description: ok}}
    put:
      x-wso2-application-security: {optional: true}
      responses: {'200': {description: ok}}
`, lines: []string{
			`d.yaml:6: API level: x-wso2-application-security: security type "jwt" is not one of oauth2, basic_auth, api_key; write e.g. security-types: [oauth2, api_key]`,
			`d.yaml:10: GET /x: x-wso2-application-security lists no security-types, so it says nothing about who may call; list one or more of oauth2, basic_auth, api_key, e.g. security-types: [oauth2]`,
			`d.yaml:13: PUT /x: x-wso2-application-security lists no security-types, so it says nothing about who may call; list one or more of oauth2, basic_auth, api_key, e.g. security-types: [oauth2]`,
		}},
		{name: "empty security list under application security", def: endpointAPI + `x-wso2-application-security: {security-types: [basic_auth]}
paths:
  /x:
    get:
      security: []
      responses: {'200': {description: ok}}
`, sec: []string{"GET /x: basic"}, lines: []string{
			`d.yaml:9: GET /x: an empty security requirement does not serve the operation open in micro-gw; use x-wso2-disable-security: true (it is ignored, so the other requirements or the default OAuth2 token apply)`,
		}},
	})
}

// TestAuthHeaderMutualSSLAndTiersAreRead protects the other extensions of
// who may call and how often: each is read at its levels into the model,
// and a bad value is an error naming its line and the valid values.
func TestAuthHeaderMutualSSLAndTiersAreRead(t *testing.T) {
	const def = endpointAPI + `x-wso2-auth-header: X-Auth
x-wso2-mutual-ssl: Mandatory
x-wso2-throttling-tier: 10kPerMin
paths:
  /x:
    get:
      x-wso2-auth-header: X-Op-Token
      x-wso2-throttling-tier: Gold
      responses: {'200': {description: ok}}
    put: {responses: {'200': {description: ok}}}
`
	api, ws := loadWarnings(t, def)
	wantExactly(t, ws)
	get, put := api.Resources[0], api.Resources[1]
	if api.ThrottlingTier != "10kPerMin" || get.ThrottlingTier != "Gold" || put.ThrottlingTier != "" {
		t.Errorf("tiers: API %q, GET %q, PUT %q", api.ThrottlingTier, get.ThrottlingTier, put.ThrottlingTier)
	}
	if get.Security.AuthHeader != "X-Op-Token" || put.Security.AuthHeader != "X-Auth" || !put.Security.Default {
		t.Errorf("auth headers: GET %+v, PUT %+v", get.Security, put.Security)
	}
	if get.Security.MutualSSL != spec.MutualSSLMandatory || put.Security.MutualSSL != spec.MutualSSLMandatory {
		t.Errorf("mutual SSL: GET %+v, PUT %+v", get.Security, put.Security)
	}

	d := loadErrors(t, endpointAPI+`x-wso2-auth-header: "Bad Header"
x-wso2-mutual-ssl: required
x-wso2-throttling-tier: ""
paths:
  /x:
    get:
      x-wso2-auth-header: [a]
      x-wso2-throttling-tier: {count: 5}
      x-wso2-mutual-ssl: optional
      responses: {'200': {description: ok}}
`)
	wantExactly(t, d.Lines(),
		`d.yaml:5: API level: x-wso2-auth-header must be an HTTP header name (letters, digits and !#$%&'*+-.^_`+"`"+`|~), got "Bad Header"; write e.g. x-wso2-auth-header: X-Auth-Token`,
		`d.yaml:6: API level: x-wso2-mutual-ssl must be mandatory or optional, got "required"; write x-wso2-mutual-ssl: mandatory to require a client certificate, or optional to check one when given`,
		`d.yaml:7: API level: x-wso2-throttling-tier must name a policy, got a string; write e.g. x-wso2-throttling-tier: 10kPerMin, a resourcePolicies entry of policies.yaml`,
		`d.yaml:11: GET /x: x-wso2-auth-header must be an HTTP header name (letters, digits and !#$%&'*+-.^_`+"`"+`|~), got ""; write e.g. x-wso2-auth-header: X-Auth-Token`,
		`d.yaml:12: GET /x: x-wso2-throttling-tier must name a policy, got an object; write e.g. x-wso2-throttling-tier: 10kPerMin, a resourcePolicies entry of policies.yaml`,
		`warning: d.yaml:13: x-wso2-mutual-ssl is read at API level only; ignored here`,
	)
}

// TestUndefinedThrottlingTierIsABuildError protects the check micro-gw
// 3.x left to request time (900809): a tier no resource policy defines
// fails the build at its file and line, listing the tiers defined and
// saying when the name is an application or subscription policy; Unlimited
// and defined tiers pass.
func TestUndefinedThrottlingTierIsABuildError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "shop.yaml"), endpointAPI+`x-wso2-throttling-tier: Unlimited
paths:
  /x:
    get:
      x-wso2-throttling-tier: 10kPerMin
      responses: {'200': {description: ok}}
    put:
      x-wso2-throttling-tier: Gold
      responses: {'200': {description: ok}}
    post:
      x-wso2-throttling-tier: Nowhere
      responses: {'200': {description: ok}}
`)
	res, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	pol := &spec.Policies{
		Resource:     []spec.Policy{{Name: "10kPerMin", Count: 10000, UnitTime: 1, TimeUnit: "min"}},
		Subscription: []spec.Policy{{Name: "Gold", Count: 5000, UnitTime: 1, TimeUnit: "min"}},
	}
	var d *Diagnostics
	if !errors.As(res.CheckTiers(pol, "policies.yaml"), &d) {
		t.Fatalf("want *Diagnostics")
	}
	file := filepath.Base(dir) + "/shop.yaml"
	wantExactly(t, d.Lines(),
		file+`:12: PUT /x: x-wso2-throttling-tier "Gold" is not defined: policies.yaml defines resourcePolicies: 10kPerMin, Unlimited; Gold is one of the subscriptionPolicies, which apply to the calling application; x-wso2-throttling-tier takes resourcePolicies only: use one of them, or add Gold under resourcePolicies in policies.yaml`,
		file+`:15: POST /x: x-wso2-throttling-tier "Nowhere" is not defined: policies.yaml defines resourcePolicies: 10kPerMin, Unlimited; use one of them, or add Nowhere under resourcePolicies in policies.yaml`,
	)
	pol.Resource = append(pol.Resource, spec.Policy{Name: "Gold"}, spec.Policy{Name: "Nowhere"})
	if err := res.CheckTiers(pol, "policies.yaml"); err != nil {
		t.Errorf("every tier defined, got %v", err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBearerAndBasicTogetherIsWarned protects users from a requirement no
// request can meet: a bearer token and basic auth in one entry both read
// the Authorization header. As alternatives, or with the token in another
// header (x-wso2-auth-header), they are fine.
func TestBearerAndBasicTogetherIsWarned(t *testing.T) {
	schemes := `components:
  securitySchemes:
    oauth: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://idp/token', scopes: {}}}}
    basic: {type: http, scheme: basic}
`
	runSecCases(t, []secCase{
		{name: "together", def: endpointAPI + `paths:
  /x:
    get:
      security: [{oauth: [], basic: []}]
      responses: {'200': {description: ok}}
` + schemes,
			sec:   []string{"GET /x: oauth2 + basic"},
			lines: []string{"d.yaml:8: GET /x: a security requirement asks for a bearer token and basic auth together, but both are read from the Authorization header, so no request can pass it; make them alternatives (separate entries), or name another header for the token with x-wso2-auth-header"}},
		{name: "alternatives", def: endpointAPI + `paths:
  /x:
    get:
      security: [{oauth: []}, {basic: []}]
      responses: {'200': {description: ok}}
` + schemes,
			sec: []string{"GET /x: oauth2 | basic"}},
		{name: "token in another header", def: endpointAPI + `x-wso2-auth-header: X-Token
paths:
  /x:
    get:
      security: [{oauth: [], basic: []}]
      responses: {'200': {description: ok}}
` + schemes,
			sec: []string{"GET /x: oauth2 + basic"}},
	})
}

// TestScopesOnSchemesWithoutScopesAreWarned protects what a definition
// declares: scopes (OpenAPI 3.1 roles) listed for an API key or basic auth
// scheme are not checked by the gateway, and the build says so instead of
// dropping them in silence.
func TestScopesOnSchemesWithoutScopesAreWarned(t *testing.T) {
	schemes := `components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
    basic: {type: http, scheme: basic}
`
	runSecCases(t, []secCase{
		{name: "api key with scopes", def: endpointAPI + `paths:
  /x:
    get:
      security: [{key: [admin]}]
      responses: {'200': {description: ok}}
` + schemes,
			sec:   []string{"GET /x: apikey(header X-Key)"},
			lines: []string{`d.yaml:8: GET /x: security scheme "key" is apikey, for which the gateway checks no scopes or roles, so admin is not enforced; remove the list, or require the scopes with an oauth2 scheme`}},
		{name: "basic without scopes", def: endpointAPI + `paths:
  /x:
    get:
      security: [{basic: []}]
      responses: {'200': {description: ok}}
` + schemes,
			sec: []string{"GET /x: basic"}},
	})
}

// TestSecurityUnderDisableSecurityIsWarned protects an OpenAPI security
// list that x-wso2-disable-security: true overrides: the operation is
// served open, and the build says the list is not applied instead of
// dropping it in silence. The document's list under one operation's own
// x-wso2-disable-security is the usual way to open that operation, and is
// not warned.
func TestSecurityUnderDisableSecurityIsWarned(t *testing.T) {
	schemes := `components:
  securitySchemes:
    oauth: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://idp/token', scopes: {admin: a}}}}
`
	runSecCases(t, []secCase{
		{name: "operation's own list", def: endpointAPI + `paths:
  /x:
    get:
      x-wso2-disable-security: true
      security: [{oauth: [admin]}]
      responses: {'200': {description: ok}}
` + schemes,
			sec:   []string{"GET /x: open (x-wso2-disable-security)"},
			lines: []string{"d.yaml:9: GET /x: security is not applied: x-wso2-disable-security: true (line 8) serves the operation open; remove one of them"}},
		{name: "document's list under an operation's disable", def: endpointAPI + `security: [{oauth: [admin]}]
paths:
  /x:
    get:
      x-wso2-disable-security: true
      responses: {'200': {description: ok}}
` + schemes,
			sec: []string{"GET /x: open (x-wso2-disable-security)"}},
	})
}

// TestSandboxBehindBasicAuthOnlyIsWarned protects sandbox endpoints that no
// request can reach: basic auth users are always PRODUCTION, so sandbox
// endpoints on operations that accept only basic auth are never used, and
// the build says so. An operation that also accepts an API key can be
// called with a SANDBOX one.
func TestSandboxBehindBasicAuthOnlyIsWarned(t *testing.T) {
	head := endpointAPI + `x-wso2-sandbox-endpoints: {urls: ["http://127.0.0.1:8082"]}
`
	schemes := `components:
  securitySchemes:
    basic: {type: http, scheme: basic}
    key: {type: apiKey, in: header, name: X-Key}
`
	runSecCases(t, []secCase{
		{name: "basic only", def: head + `paths:
  /x:
    get:
      security: [{basic: []}]
      responses: {'200': {description: ok}}
` + schemes,
			sec:   []string{"GET /x: basic"},
			lines: []string{"d.yaml:5: sandbox endpoints are never used: only a SANDBOX credential reaches them, and every operation that has them is served open or accepts only basic auth, whose users are always PRODUCTION; accept an OAuth2 token or an API key there"}},
		{name: "basic or an API key", def: head + `paths:
  /x:
    get:
      security: [{basic: []}, {key: []}]
      responses: {'200': {description: ok}}
` + schemes,
			sec: []string{"GET /x: basic | apikey(header X-Key)"}},
	})
}
