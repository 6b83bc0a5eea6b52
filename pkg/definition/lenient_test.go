package definition

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// endpointAPI is the start of a definition that builds: an endpoint and a
// base path, so that the warnings a test expects are the only ones.
const endpointAPI = `openapi: 3.0.3
info: {title: t, version: "1"}
x-wso2-basePath: /t
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:8081"]}
`

// loadWarnings parses def, which must build, and returns its warnings.
func loadWarnings(t *testing.T, def string) (*spec.API, []string) {
	t.Helper()
	api, ws, err := Parse("d.yaml", []byte(def))
	if err != nil {
		t.Fatalf("want a build with warnings, got:\n%v", err)
	}
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return api, out
}

// loadErrors parses def, which must fail, and returns its diagnostics.
func loadErrors(t *testing.T, def string) *Diagnostics {
	t.Helper()
	_, _, err := Parse("d.yaml", []byte(def))
	var d *Diagnostics
	if !errors.As(err, &d) {
		t.Fatalf("want *Diagnostics, got %T %v", err, err)
	}
	return d
}

// wantExactly checks that got holds exactly the wanted lines, in order.
func wantExactly(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSpecViolationsThatDoNotAffectRoutingAreWarnings protects the split
// between errors and warnings: each definition here was refused before,
// and now builds with one warning naming its line and what to do.
func TestSpecViolationsThatDoNotAffectRoutingAreWarnings(t *testing.T) {
	tests := []struct {
		name, def string
		want      []string
	}{
		{"implicit flow without scopes", endpointAPI + `paths:
  /x: {get: {responses: {'200': {description: ok}}}}
components:
  securitySchemes:
    auth:
      type: oauth2
      flows:
        implicit: {authorizationUrl: 'https://a.example.com'}
`, []string{`d.yaml:12: security scheme "auth": security scheme 'flow' is invalid: the OAuth flow "implicit" is invalid: field 'scopes' is missing; add scopes: {} to the flow`}},
		{"parameter without schema or content", endpointAPI + `paths:
  /x:
    get:
      parameters: [{name: status, in: query, required: true}]
      responses: {'200': {description: ok}}
`, []string{`d.yaml:8: GET /x: parameter "status" schema is invalid: parameter must contain exactly one of content and schema; give the parameter one of them, e.g. schema: {type: string}; the gateway passes the parameter on unchecked`}},
		{"path parameter not declared", endpointAPI + `paths:
  /x/{id}:
    get:
      responses: {'200': {description: ok}}
`, []string{`d.yaml:6: GET /x/{id}: operation GET /x/{id} must define exactly all path parameters (missing: [id]); declare each {parameter} of the path under parameters with in: path; the gateway routes the path either way`}},
		{"missing info.version", `openapi: 3.0.3
info: {title: t}
x-wso2-basePath: /t
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:8081"]}
paths:
  /x: {get: {responses: {'200': {description: ok}}}}
`, []string{`d.yaml:2: value of version must be a non-empty string; the gateway does not depend on it, but correct it to follow the OpenAPI 3.0/3.1 specification`}},
		{"default and example of the wrong type", endpointAPI + `paths:
  /x:
    get:
      parameters:
        - name: n
          in: query
          schema: {type: integer, default: ten}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: string
                example: 42
`, []string{
			`d.yaml:11: GET /x: parameter "n" schema is invalid: invalid default: value must be an integer; make the default match its schema, or remove it; the gateway does not use it`,
			`d.yaml:19: GET /x: invalid example: value must be a string; make the example match its schema, or remove it; the gateway does not use it`,
		}},
		{"paths differing in parameter names, methods differ", endpointAPI + `paths:
  /a/{id}:
    get: {parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}
  /a/{name}:
    put: {parameters: [{name: name, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}
`, []string{`d.yaml:8: path /a/{name} differs from /a/{id} (line 6) only in parameter names, which OpenAPI calls ambiguous; their methods differ, so the gateway serves each: name the parameters alike`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := loadWarnings(t, tt.def)
			wantExactly(t, got, tt.want...)
		})
	}
}

// TestSameMethodOnPathsDifferingInParameterNamesIsAnError protects the
// other half: one route, two operations, in one file (LoadFile and init -a
// see it, not only the cross-check of a build).
func TestSameMethodOnPathsDifferingInParameterNamesIsAnError(t *testing.T) {
	d := loadErrors(t, endpointAPI+`paths:
  /a/{id}:
    get: {parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}
  /a/{name}:
    get: {parameters: [{name: name, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}
`)
	wantExactly(t, d.Lines(), `d.yaml:9: GET /a/{name}: route GET /t/a/{name} is also served by GET /t/a/{id} in this file (line 7); each method and path may be served once: remove one, or name the parameters alike and merge them`)
}

// TestMissingSchemaRefReadsAsEmptySchema protects the $ref leniency: a
// reference to a schema that does not exist warns with its line and the
// reference as written, in OpenAPI 3 and in Swagger 2.0, and the rest of
// the definition builds.
func TestMissingSchemaRefReadsAsEmptySchema(t *testing.T) {
	api, got := loadWarnings(t, endpointAPI+`paths:
  /x:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Missing'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: "#/components/schemas/Missing"
`)
	wantExactly(t, got, `d.yaml:11: $ref "#/components/schemas/Missing" does not resolve: there is no such schema; read as an empty schema (any value): define it, or correct the reference`)
	if len(api.Resources) != 1 {
		t.Errorf("resources: %+v", api.Resources)
	}

	_, got = loadWarnings(t, `swagger: "2.0"
info: {title: t, version: "1"}
host: 127.0.0.1:8081
basePath: /sw
paths:
  /x:
    get:
      responses:
        '200': {description: ok, schema: {$ref: '#/definitions/Category'}}
`)
	wantExactly(t, got, `d.yaml:9: $ref "#/definitions/Category" does not resolve: there is no such schema; read as an empty schema (any value): define it, or correct the reference`)
}

// TestUnresolvedRefIsAnErrorWithItsLine protects $ref errors: a reference
// of another kind that leads nowhere names its line (kin-openapi said
// "failed to resolve ... in fragment in URI", with no line), and every one
// is reported in the same round.
func TestUnresolvedRefIsAnErrorWithItsLine(t *testing.T) {
	d := loadErrors(t, endpointAPI+`paths:
  /x:
    get:
      parameters: [{$ref: '#/components/parameters/Limit'}]
      responses:
        '404': {$ref: '#/components/responses/NotFound'}
  /y: {$ref: '#/paths/~1nowhere'}
`)
	wantExactly(t, d.Lines(),
		`d.yaml:8: $ref "#/components/parameters/Limit" does not resolve: there is no such parameter; define it, or correct the reference`,
		`d.yaml:10: $ref "#/components/responses/NotFound" does not resolve: there is no such response; define it, or correct the reference`,
		`d.yaml:11: $ref "#/paths/~1nowhere" does not resolve: there is no such path item; define it, or correct the reference`,
	)
}

// TestRefOfTheWrongKindNamesItsLine protects the line of a load error
// about a reference that resolves to the wrong kind of object.
func TestRefOfTheWrongKindNamesItsLine(t *testing.T) {
	d := loadErrors(t, endpointAPI+`paths:
  /x:
    get:
      parameters:
        - $ref: '#/components/schemas/Pet'
      responses: {'200': {description: ok}}
components:
  schemas:
    Pet: {type: object}
`)
	wantExactly(t, d.Lines(), `d.yaml:9: not a valid OpenAPI document: bad data in "#/components/schemas/Pet" (expecting ref to parameter object); correct it so that it follows the OpenAPI 3.0/3.1 specification`)
}

// TestLegacySecurityShapes protects the YAML shapes older tools wrote: a
// security requirement as a string, scopes as a scalar. Each is read as
// meant, with a warning naming its line, and no "undefined scheme" noise.
func TestLegacySecurityShapes(t *testing.T) {
	_, got := loadWarnings(t, endpointAPI+`components:
  securitySchemes:
    petstore_auth: {type: oauth2, flows: {implicit: {authorizationUrl: 'https://a.example.com', scopes: {admin: a}}}}
    default: {type: apiKey, in: header, name: X-Key}
security:
  - petstore_auth:[]
  - 'petstore_auth:[admin, "x"]'
paths:
  /x:
    get:
      security:
        - default: "admin"
      responses: {'200': {description: ok}}
`)
	wantExactly(t, got,
		`d.yaml:10: security requirement "petstore_auth:[]" is a string; read as {petstore_auth: []}: write it as an object, "- petstore_auth: []" (a space after the colon)`,
		`d.yaml:11: security requirement "petstore_auth:[admin, \"x\"]" is a string; read as {petstore_auth: [admin, x]}: write it as an object, "- petstore_auth: [admin, x]" (a space after the colon)`,
		`d.yaml:16: GET /x: security scheme "default" is apikey, for which the gateway checks no scopes or roles, so admin is not enforced; remove the list, or require the scopes with an oauth2 scheme`,
		`d.yaml:16: GET /x: the scopes of security scheme "default" are the scalar "admin"; read as the list [admin]: write a list, default: [admin]`,
	)
}

// TestUndefinedSecuritySchemeIsOAuth2AsInMicroGW3 protects the warning
// about a scheme no definition defines: it is named at each line that
// uses it, with the fact that micro-gw reads it as OAuth2 (with its
// scopes), as 3.x did, rather than serving the operation open.
func TestUndefinedSecuritySchemeIsOAuth2AsInMicroGW3(t *testing.T) {
	api, got := loadWarnings(t, endpointAPI+`paths:
  /x:
    get:
      security: [{api_key: []}, {oauth: [read]}]
      responses: {'200': {description: ok}}
    put:
      security: [{api_key: []}]
      responses: {'200': {description: ok}}
`)
	wantExactly(t, got,
		`d.yaml:8: GET /x: security scheme "api_key" is not defined; it is treated as oauth2 (micro-gw 3.x treated security as OAuth2), so an OAuth2 bearer token is required; define it under components.securitySchemes`,
		`d.yaml:8: GET /x: security scheme "oauth" is not defined; it is treated as oauth2 (micro-gw 3.x treated security as OAuth2), so an OAuth2 bearer token with scopes read is required; define it under components.securitySchemes`,
		`d.yaml:11: PUT /x: security scheme "api_key" is not defined; it is treated as oauth2 (micro-gw 3.x treated security as OAuth2), so an OAuth2 bearer token is required; define it under components.securitySchemes`,
	)
	wantSecurity(t, api.Resources, "GET /x: oauth2 | oauth2[read]", "PUT /x: oauth2")
}

// TestEveryProblemOfEveryFileAtOnce protects the compiler-like report: the
// errors and warnings of all definitions in one build, sorted by file and
// line, with their count.
func TestEveryProblemOfEveryFileAtOnce(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml": `openapi: 3.0.3
info: {title: a, version: "1"}
x-wso2-basePath: /a
x-wso2-production-endpoints:
  urls:
    - ftp://one.example.com
    - consul(orders, http://127.0.0.1:1)
paths:
  /x/{a}{b}:
    get: {responses: {'200': {description: ok}}}
  /y:
    get:
      parameters: [{name: q, in: query}]
      x-wso2-production-endpoints: {type: rr, urls: ["http://127.0.0.1:2"]}
      responses: {'200': {description: ok}}
`,
		"b.yaml": `openapi: 3.0.3
info: {title: b, version: "1"}
x-wso2-basePath: /a
x-wso2-cors: {accessControlAllowCredentials: maybe}
paths:
  /z: {get: {responses: {'200': {description: ok}}}}
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadDir(dir)
	var d *Diagnostics
	if !errors.As(err, &d) {
		t.Fatalf("want *Diagnostics, got %v", err)
	}
	base := filepath.Base(dir)
	got := strings.ReplaceAll(d.Error(), base+"/", "")
	want := strings.Join([]string{
		`a.yaml:6: API level: bad endpoint URL: "ftp://one.example.com" is not an absolute http(s) URL; write an absolute http(s) URL such as https://host:8443/v1, or etcd(<key>, <default_URL>)`,
		`a.yaml:7: API level: consul() endpoints are not supported; use etcd(<key>, <default_URL>) or a URL`,
		`a.yaml:9: path /x/{a}{b}: has two parameters with nothing between them; put fixed text between them, e.g. /x/{a}-{b}, or make them one parameter`,
		`warning: a.yaml:13: GET /y: parameter "q" schema is invalid: parameter must contain exactly one of content and schema; give the parameter one of them, e.g. schema: {type: string}; the gateway passes the parameter on unchecked`,
		`a.yaml:14: GET /y: unknown endpoint type "rr"; use one of http, load_balance, failover (did you mean http?)`,
		`b.yaml:3: API level: base path "/a" is also the base path of a.yaml; give each API its own x-wso2-basePath`,
		`b.yaml:4: API level: accessControlAllowCredentials must be true or false, got "maybe"; write accessControlAllowCredentials: true`,
		`b.yaml:6: GET /z: no production endpoint serves this operation; add x-wso2-production-endpoints to this operation or at API level, or an absolute http(s) URL under servers`,
		`7 errors, 1 warning`,
	}, "\n")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestOneLineJSONPointsToTheJSONPath protects messages about minified
// JSON: every line is 1, so each message carries the element's JSON
// pointer, also after an earlier part of the line was rewritten.
func TestOneLineJSONPointsToTheJSONPath(t *testing.T) {
	def := `{"openapi":"3.0.3","info":{"title":"m","version":"1"},"x-wso2-basePath":"/m","x-wso2-production-endpoints":{"urls":["http://127.0.0.1:1"]},` +
		`"security":["legacy:[]"],"components":{"securitySchemes":{"legacy":{"type":"apiKey","in":"header","name":"K"}}},` +
		`"paths":{"/a":{"get":{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Gone"}}}}}}},` +
		`"/b":{"get":{"parameters":[{"name":"q","in":"query"}],"responses":{"200":{"description":"ok"}}}}}}`
	_, got := loadWarnings(t, def)
	wantExactly(t, got,
		`d.yaml:1 (#/security/0): security requirement "legacy:[]" is a string; read as {legacy: []}: write it as an object, "- legacy: []" (a space after the colon)`,
		`d.yaml:1 (#/paths/~1a/get/responses/200/content/application~1json/schema/$ref): $ref "#/components/schemas/Gone" does not resolve: there is no such schema; read as an empty schema (any value): define it, or correct the reference`,
		`d.yaml:1 (#/paths/~1b/get/parameters/0/name): GET /b: parameter "q" schema is invalid: parameter must contain exactly one of content and schema; give the parameter one of them, e.g. schema: {type: string}; the gateway passes the parameter on unchecked`,
	)
}

// TestPathTheRouterRejectsIsABuildError protects the build against paths
// the build accepted but the gateway's router refused at start.
func TestPathTheRouterRejectsIsABuildError(t *testing.T) {
	d := loadErrors(t, endpointAPI+`paths:
  /files/{name}{ext}:
    get: {responses: {'200': {description: ok}}}
`)
	if len(d.Errors) != 1 || d.Errors[0].Line != 6 || !strings.Contains(d.Errors[0].Msg, `has two parameters with nothing between them`) {
		t.Errorf("errors:\n%v", d)
	}
}

// TestCORSAsMicroGW3ReadIt protects x-wso2-cors as 3.x read it: present
// means on unless corsConfigurationEnabled is false, and each key may be
// written in camelCase, kebab-case or snake_case.
func TestCORSAsMicroGW3ReadIt(t *testing.T) {
	api, got := loadWarnings(t, endpointAPI+`x-wso2-cors:
  access-control-allow-origins: ["https://app.example.com"]
  access_control_allow_credentials: true
  access-control-allow-headers: [authorization]
  ACCESS_CONTROL_ALLOW_METHODS: [GET]
  accessControlExposeHeaders: [X-Id]
paths:
  /x: {get: {responses: {'200': {description: ok}}}}
`)
	wantExactly(t, got)
	c := api.CORS
	if c == nil || !c.Enabled || !c.AllowCredentials || strings.Join(c.AllowOrigins, ",") != "https://app.example.com" ||
		strings.Join(c.AllowHeaders, ",") != "authorization" || strings.Join(c.AllowMethods, ",") != "GET" || strings.Join(c.ExposeHeaders, ",") != "X-Id" {
		t.Errorf("cors = %+v", c)
	}

	api, _ = loadWarnings(t, endpointAPI+`x-wso2-cors: {cors-configuration-enabled: false, accessControlAllowOrigins: ["*"]}
paths:
  /x: {get: {responses: {'200': {description: ok}}}}
`)
	if api.CORS == nil || api.CORS.Enabled {
		t.Errorf("corsConfigurationEnabled: false: cors = %+v", api.CORS)
	}
}

// TestOperationServersAreEndpoints protects servers on path items and
// operations: they override the document's servers for those operations
// (Stripe's file upload goes to another host), unless an
// x-wso2-production-endpoints extension applies.
func TestOperationServersAreEndpoints(t *testing.T) {
	api, got := loadWarnings(t, `openapi: 3.0.3
info: {title: s, version: "1"}
servers: [{url: "https://api.example.com/"}]
paths:
  /v1/charges:
    get: {responses: {'200': {description: ok}}}
  /v1/files:
    servers: [{url: "https://files.example.com/"}]
    get: {responses: {'200': {description: ok}}}
    post:
      servers: [{url: "https://uploads.example.com/"}, {url: "/relative"}]
      responses: {'200': {description: ok}}
`)
	wantExactly(t, got, `d.yaml:11: POST /v1/files: server "/relative" is not an absolute http(s) URL, so not an endpoint; the other servers listed there serve it: write the full URL (https://host/path) to route there`)
	wantEndpoints(t, "API", api.Production, spec.TypeHTTP, "https://api.example.com/")
	byRoute := map[string]*spec.Endpoints{}
	for _, r := range api.Resources {
		byRoute[r.Method+" "+r.Path] = r.Production
	}
	if byRoute["GET /v1/charges"] != nil {
		t.Errorf("GET /v1/charges has its own endpoints %+v; want the document's", byRoute["GET /v1/charges"])
	}
	wantEndpoints(t, "path item servers", byRoute["GET /v1/files"], spec.TypeHTTP, "https://files.example.com/")
	wantEndpoints(t, "operation servers", byRoute["POST /v1/files"], spec.TypeHTTP, "https://uploads.example.com/")

	// An API-level x-wso2-production-endpoints serves every operation
	// without its own: the servers below are named in one warning.
	api, got = loadWarnings(t, endpointAPI+`paths:
  /a:
    servers: [{url: "https://files.example.com/"}]
    get: {responses: {'200': {description: ok}}}
  /b:
    get:
      servers: [{url: "https://b.example.com/"}]
      x-wso2-production-endpoints: {urls: ["http://127.0.0.1:9"]}
      responses: {'200': {description: ok}}
`)
	wantExactly(t, got, `d.yaml:7: servers of GET /a is not used: x-wso2-production-endpoints at API level serves every operation without its own; move the URLs into x-wso2-production-endpoints of the operation to route there`)
	if api.Resources[0].Production != nil {
		t.Errorf("GET /a: %+v", api.Resources[0].Production)
	}
	wantEndpoints(t, "own extension", api.Resources[1].Production, spec.TypeHTTP, "http://127.0.0.1:9")
}

// TestTransportsExtension protects x-wso2-transports in the model.
func TestTransportsExtension(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"[http]", "http"}, {"[https]", "https"}, {"[http, https]", ""}, {"[HTTPS]", "https"}, {"https", "https"},
	} {
		api, got := loadWarnings(t, endpointAPI+"x-wso2-transports: "+c.value+"\npaths:\n  /x: {get: {responses: {'200': {description: ok}}}}\n")
		if strings.Join(api.Transports, ",") != c.want || len(got) != 0 {
			t.Errorf("%s: transports %v, warnings %v; want %q", c.value, api.Transports, got, c.want)
		}
	}
	d := loadErrors(t, endpointAPI+"x-wso2-transports: [http, ftp]\npaths:\n  /x: {get: {responses: {'200': {description: ok}}}}\n")
	wantExactly(t, d.Lines(), `d.yaml:5: API level: x-wso2-transports holds "ftp", which is neither http nor https; write x-wso2-transports: [http, https], or one of them to serve the API on that listener only`)
}

// TestEveryIgnoredKeyIsNamedOnce protects "nothing silently dropped":
// each extension or field the gateway does not act on is named in exactly
// one warning, however often it appears.
func TestEveryIgnoredKeyIsNamedOnce(t *testing.T) {
	_, got := loadWarnings(t, endpointAPI+`x-logo: {url: x}
x-wso2-throttling-tier: Gold
x-wso2-unknown: 1
paths:
  /a:
    get:
      x-wso2-unknown: 2
      x-wso2-throttling-tier: Gold
      x-codegen: go
      callbacks:
        onEvent:
          '{$request.body#/url}': {post: {responses: {'200': {description: ok}}}}
      responses: {'200': {description: ok}}
  /b:
    get:
      x-wso2-unknown: 3
      x-codegen: go
      responses: {'200': {description: ok}}
components:
  schemas:
    S:
      type: object
      properties:
        x-not-an-extension: {type: string}
webhooks:
  newPet: {post: {responses: {'200': {description: ok}}}}
`)
	wantExactly(t, got,
		`d.yaml:5: extensions of other tools are ignored: x-codegen, x-logo (micro-gw reads only the x-wso2-* extensions)`,
		`d.yaml:7: unknown extension x-wso2-unknown is ignored; did you mean x-wso2-endpoints? (also in 2 more places)`,
		`d.yaml:14: callbacks (GET /a) are not served: they are requests the backend sends to clients, which do not pass through the gateway`,
		`d.yaml:29: field webhooks is for OpenAPI >=3.1; the gateway does not depend on it, but correct it to follow the OpenAPI 3.0/3.1 specification`,
		`d.yaml:29: webhooks (newPet) are not served: they are requests the backend sends to others, which do not pass through the gateway`,
	)
}

// TestEveryMicroGWExtensionBuilds protects the promise that definitions
// written for micro-gw 3.x build: one using every extension micro-gw
// documents builds with no error, the extensions acted on are in the model,
// and the others are named in one warning.
func TestEveryMicroGWExtensionBuilds(t *testing.T) {
	api, ws, err := LoadFile("testdata/defs/extensions/every_extension.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if api.BasePath != "/every/1.0.0" || len(api.Transports) != 0 {
		t.Errorf("base path %q, transports %v", api.BasePath, api.Transports)
	}
	wantEndpoints(t, "API production", api.Production, spec.TypeFailover, "https://primary.example.com/v1", "etcd(every, https://secondary.example.com/v1)")
	if a := api.Production.Advanced; a == nil || a.TimeoutMillis != 7000 || a.Retry == nil || a.CircuitBreaker == nil {
		t.Errorf("advanced = %+v", a)
	}
	wantEndpoints(t, "API sandbox", api.Sandbox, spec.TypeHTTP, "etcd(every-sandbox, https://sandbox.example.com/v1)")
	if c := api.CORS; c == nil || !c.Enabled || !c.AllowCredentials || len(c.AllowMethods) != 3 {
		t.Errorf("cors = %+v", c)
	}
	inv := api.Resources[0]
	wantEndpoints(t, "inventory", inv.Production, spec.TypeLoadBalance, "https://inventory1.example.com/v1", "etcd(inventory, https://inventory2.example.com/v1)")
	if inv.Production.Name != "inventoryBackend" || inv.Sandbox == nil || inv.Sandbox.Name != "sandboxBackend" {
		t.Errorf("inventory = %+v / %+v", inv.Production, inv.Sandbox)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	const file = "testdata/defs/extensions/every_extension.yaml"
	wantExactly(t, got,
		file+":51: not supported yet, so ignored: x-wso2-request-interceptor, x-wso2-response-cache, x-wso2-response-interceptor (the gateway does not intercept or cache requests yet)",
	)
	if api.ThrottlingTier != "10kPerMin" || inv.ThrottlingTier != "20kPerMin" {
		t.Errorf("tiers: API %q, inventory %q", api.ThrottlingTier, inv.ThrottlingTier)
	}
	wantSecurity(t, api.Resources,
		"GET /inventory: apikey(header X-API-Key) (optional: requests without credentials pass); mutual TLS optional",
		"DELETE /orders/{orderId}: open (x-wso2-disable-security)",
		"GET /orders/{orderId}: oauth2 | basic | apikey(header X-API-Key); mutual TLS optional",
	)
	if s := api.Resources[2].Security; s.AuthHeader != "X-Auth" || s.MutualSSL != spec.MutualSSLOptional {
		t.Errorf("GET /orders security = %+v", s)
	}
}
