package definition

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// petsAPI has a path parameter at path item level, a query parameter, a
// request body and a response, all through components, one of them
// recursive (a Pet's parent is a Pet).
const petsAPI = endpointAPI + `paths:
  /pets/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    post:
      parameters:
        - $ref: '#/components/parameters/Verbose'
      requestBody:
        required: true
        content:
          application/json: {schema: {$ref: '#/components/schemas/Pet'}}
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {$ref: '#/components/schemas/Pet'}}
      security: [{basic: []}]
  /other:
    get:
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    basic: {type: http, scheme: basic}
  parameters:
    Verbose: {name: verbose, in: query, schema: {type: boolean}}
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        parent: {$ref: '#/components/schemas/Pet'}
        tag: {$ref: '#/components/schemas/Tag'}
    Tag: {type: string, enum: [a, b]}
    Unused: {type: string}
`

// loadWith parses def with opts; it must build.
func loadWith(t *testing.T, def string, opts Options) *spec.API {
	t.Helper()
	d, err := loadBytes("d.yaml", "d.yaml", []byte(def), opts)
	if err != nil {
		t.Fatalf("want a build, got:\n%v", err)
	}
	return &d.api
}

// resource returns the resource of api with method and path.
func resource(t *testing.T, api *spec.API, method, path string) *spec.Resource {
	t.Helper()
	for i := range api.Resources {
		if r := &api.Resources[i]; r.Method == method && r.Path == path {
			return r
		}
	}
	t.Fatalf("no resource %s %s", method, path)
	return nil
}

func TestValidationIsOffByDefault(t *testing.T) {
	api := loadWith(t, petsAPI, Options{})
	if api.Validation != nil {
		t.Errorf("API validation data without validation on: %s", api.Validation.Components)
	}
	for _, r := range api.Resources {
		if r.Validation != nil {
			t.Errorf("%s %s has validation data without validation on", r.Method, r.Path)
		}
	}
}

func TestValidationDataHoldsTheOperationAndOnlyTheComponentsItUses(t *testing.T) {
	api := loadWith(t, strings.Replace(petsAPI, "paths:", "x-wso2-request-validation: true\nx-wso2-response-validation: true\npaths:", 1), Options{})
	r := resource(t, api, "POST", "/pets/{id}")
	v := r.Validation
	if v == nil || !v.Request || !v.Response {
		t.Fatalf("POST /pets/{id}: validation = %+v, want request and response on", v)
	}
	var op map[string]any
	if err := json.Unmarshal(v.Operation, &op); err != nil {
		t.Fatal(err)
	}
	params, _ := op["parameters"].([]any)
	if len(params) != 2 {
		t.Errorf("parameters = %v; want the path item's id and the operation's $ref", op["parameters"])
	}
	for _, k := range []string{"requestBody", "responses"} {
		if op[k] == nil {
			t.Errorf("operation has no %s: %s", k, v.Operation)
		}
	}
	for _, k := range []string{"security", "__origin__"} {
		if strings.Contains(string(v.Operation), `"`+k+`"`) {
			t.Errorf("operation carries %s: %s", k, v.Operation)
		}
	}
	if api.Validation == nil || api.Validation.OpenAPI != "3.0.3" {
		t.Fatalf("API validation = %+v; want OpenAPI 3.0.3", api.Validation)
	}
	var comps map[string]map[string]json.RawMessage
	if err := json.Unmarshal(api.Validation.Components, &comps); err != nil {
		t.Fatal(err)
	}
	if _, ok := comps["schemas"]["Pet"]; !ok {
		t.Errorf("components lack Pet: %s", api.Validation.Components)
	}
	if _, ok := comps["schemas"]["Tag"]; !ok {
		t.Errorf("components lack Tag, which Pet refers to: %s", api.Validation.Components)
	}
	if _, ok := comps["parameters"]["Verbose"]; !ok {
		t.Errorf("components lack the parameter Verbose: %s", api.Validation.Components)
	}
	if _, ok := comps["schemas"]["Unused"]; ok {
		t.Errorf("components hold Unused, which no validated operation refers to")
	}
	if _, ok := comps["securitySchemes"]; ok {
		t.Errorf("components hold securitySchemes")
	}
	if !strings.Contains(string(comps["schemas"]["Pet"]), `"$ref":"#/components/schemas/Pet"`) {
		t.Errorf("the recursive Pet lost its self-reference: %s", comps["schemas"]["Pet"])
	}
	if o := resource(t, api, "GET", "/other"); o.Validation == nil || o.Validation.Request != true {
		t.Errorf("GET /other: validation %+v; want it on, as the whole API is", o.Validation)
	}
}

func TestValidationSettingsTurnItOnAndTheExtensionTurnsItOff(t *testing.T) {
	both := Options{RequestValidation: true, ResponseValidation: true}
	api := loadWith(t, petsAPI, both)
	if v := resource(t, api, "POST", "/pets/{id}").Validation; v == nil || !v.Request || !v.Response {
		t.Fatalf("settings on: validation = %+v; want both on", v)
	}
	api = loadWith(t, strings.Replace(petsAPI, "paths:", "x-wso2-request-validation: false\npaths:", 1), both)
	v := resource(t, api, "POST", "/pets/{id}").Validation
	if v == nil || v.Request || !v.Response {
		t.Fatalf("x-wso2-request-validation: false with the settings on: validation = %+v; want the response side only", v)
	}
	var op map[string]any
	if err := json.Unmarshal(v.Operation, &op); err != nil {
		t.Fatal(err)
	}
	if op["requestBody"] != nil || op["parameters"] != nil {
		t.Errorf("response-only validation carries the request side: %s", v.Operation)
	}
}

func TestValidationExtensionMustBeABoolean(t *testing.T) {
	diag := loadErrors(t, strings.Replace(petsAPI, "paths:", "x-wso2-request-validation: yes please\npaths:", 1))
	if got := diag.Error(); !strings.Contains(got, "x-wso2-request-validation must be true or false") || !strings.Contains(got, "d.yaml:5") {
		t.Errorf("error = %s; want line 5 and 'must be true or false'", got)
	}
}

// missingRefAPI refers to a schema that does not exist from its request body.
const missingRefAPI = endpointAPI + `paths:
  /pets:
    post:
      requestBody:
        content:
          application/json: {schema: {$ref: '#/components/schemas/Nowhere'}}
      responses: {"200": {description: ok}}
`

func TestMissingSchemaIsAnErrorOnlyWhenValidationReadsIt(t *testing.T) {
	// Off: a warning, as micro-gw 3.x's parser had it.
	_, ws := loadWarnings(t, missingRefAPI)
	if len(ws) != 1 || !strings.Contains(ws[0], "Nowhere") {
		t.Fatalf("validation off: warnings %q; want one about Nowhere", ws)
	}
	// Response validation does not read the request body: still a warning.
	loadWith(t, missingRefAPI, Options{ResponseValidation: true})

	// Request validation reads it: an error naming the line of the $ref.
	_, err := loadBytes("d.yaml", "d.yaml", []byte(missingRefAPI), Options{RequestValidation: true})
	var diag *Diagnostics
	if !errors.As(err, &diag) || len(diag.Errors) != 1 {
		t.Fatalf("request validation on: err = %v; want one error", err)
	}
	got := diag.Errors[0]
	if got.Line != 10 || !strings.Contains(got.Msg, `"#/components/schemas/Nowhere"`) || !strings.Contains(got.Msg, "request-validation = true") {
		t.Errorf("error = %s (line %d); want line 10 naming the reference and the setting", got, got.Line)
	}

	// The same through the extension names the extension's line.
	_, err = loadBytes("d.yaml", "d.yaml", []byte(strings.Replace(missingRefAPI, "paths:", "x-wso2-request-validation: true\npaths:", 1)), Options{})
	if !errors.As(err, &diag) || len(diag.Errors) != 1 || !strings.Contains(diag.Errors[0].Msg, "x-wso2-request-validation: true at line 5") {
		t.Errorf("extension on: err = %v; want one error naming line 5's extension", err)
	}
}

func TestMissingSchemaBehindAResolvingRefIsFoundAndCyclesEnd(t *testing.T) {
	def := endpointAPI + `paths:
  /pets:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {$ref: '#/components/schemas/A'}}
components:
  schemas:
    A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}
    B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}, c: {$ref: '#/components/schemas/Missing'}}}
`
	_, err := loadBytes("d.yaml", "d.yaml", []byte(def), Options{ResponseValidation: true})
	var diag *Diagnostics
	if !errors.As(err, &diag) || len(diag.Errors) != 1 || len(diag.Warnings) != 0 || diag.Errors[0].Line != 16 || !strings.Contains(diag.Errors[0].Msg, "response validation") {
		t.Fatalf("err = %v; want one error at line 16 (B's c) about response validation, and no warning repeating it", err)
	}
}

func TestSwaggerValidationDataIsOpenAPI3(t *testing.T) {
	def := `swagger: "2.0"
info: {title: t, version: "1"}
basePath: /t
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:8081"]}
x-wso2-request-validation: true
paths:
  /pets:
    post:
      consumes: [application/json]
      parameters:
        - {name: body, in: body, required: true, schema: {$ref: '#/definitions/Pet'}}
        - {name: limit, in: query, type: integer}
      responses: {"200": {description: ok}}
definitions:
  Pet: {type: object, required: [name], properties: {name: {type: string}}}
`
	api := loadWith(t, def, Options{})
	v := resource(t, api, "POST", "/pets").Validation
	if v == nil || !strings.Contains(string(v.Operation), `"requestBody"`) || !strings.Contains(string(api.Validation.Components), `"Pet"`) {
		t.Fatalf("validation = %+v, components %s; want a requestBody referring to Pet", v, api.Validation.Components)
	}
	if strings.Contains(string(v.Operation), "#/definitions/") || api.Validation.OpenAPI != "3.0.3" {
		t.Errorf("operation keeps Swagger 2.0 references or version: %s (%s)", v.Operation, api.Validation.OpenAPI)
	}
}

func TestLoadDirWithPassesTheSettings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pets.yaml"), []byte(petsAPI), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := LoadDirWith(dir, Options{RequestValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.APIs[0].Resources[0].Validation; v == nil || !v.Request || v.Response {
		t.Errorf("validation = %+v; want request only", v)
	}
}
