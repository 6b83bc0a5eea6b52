package definition

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/definition/defgen"
)

// withoutOrigins returns the JSON of a loaded document without kin-openapi's
// "__origin__" positions, which only the exact load records.
func withoutOrigins(t *testing.T, doc interface{ MarshalJSON() ([]byte, error) }) string {
	t.Helper()
	data, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	var strip func(v any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "__origin__")
			for _, e := range x {
				strip(e)
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(tree)
	out, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestCleanJSONDocumentIsWhatLoadFromDataReads protects the fast load of
// clean JSON documents: the document must be the one kin-openapi's
// LoadFromData reads, origins aside, including extensions, examples,
// numbers and references.
func TestCleanJSONDocumentIsWhatLoadFromDataReads(t *testing.T) {
	const head = `{"openapi": "3.0.3", "info": {"title": "t", "version": "1", "x-logo": {"url": "l"}}, "x-wso2-basePath": "/t", `
	for name, src := range map[string]string{
		"generated":        string(defgen.Generate(defgen.Options{Ops: 20, Props: 3})),
		"generated chain":  string(defgen.Generate(defgen.Options{Chain: 20})),
		"examples":         head + `"paths": {"/a": {"get": {"parameters": [{"name": "n", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1e3, "default": 7}, "example": 12}], "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}, "example": {"id": 1.5, "tags": ["x", null]}}}}}}}}, "components": {"schemas": {"A": {"type": "object", "properties": {"id": {"type": "number", "multipleOf": 0.5}, "tags": {"type": "array", "items": {"type": "string", "nullable": true}}}, "x-extra": [1, "two", {"three": 3}]}}}}`,
		"paths extension":  head + `"paths": {"x-note": {"by": ["a", 1]}, "/a": {"x-item": true, "get": {"responses": {"204": {"description": "ok"}}}}, "/b/{id}": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "put": {"responses": {"204": {"description": "ok"}}}}}}`,
		"components":       head + `"paths": {"/a": {"get": {"security": [{"k": []}], "parameters": [{"$ref": "#/components/parameters/P"}], "responses": {"200": {"$ref": "#/components/responses/R"}}}}}, "components": {"x-team": {"a": [1, "b"]}, "schemas": {"A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}}, "B": {"type": "string", "enum": ["x", "y"]}}, "parameters": {"P": {"name": "p", "in": "query", "schema": {"$ref": "#/components/schemas/B"}}}, "responses": {"R": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}, "securitySchemes": {"k": {"type": "apiKey", "in": "header", "name": "X-Key"}}}}`,
		"empty schemas":    head + `"paths": {}, "components": {"schemas": {}, "parameters": {}}}`,
		"null schemas":     head + `"paths": {}, "components": {"schemas": null}}`,
		"empty paths":      head + `"paths": {}, "components": {"schemas": {"A": {"type": "string"}}}}`,
		"shared parameter": head + `"paths": {"/a/{id}": {"parameters": [{"$ref": "#/components/parameters/Id"}], "get": {"responses": {"204": {"description": "ok"}}}}}, "components": {"parameters": {"Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "enum": ["a", "b"]}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			want, err := newTestLoader().LoadFromData([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			got := cleanJSONDocument(context.Background(), []byte(src))
			if got == nil {
				t.Fatal("cleanJSONDocument found the document not clean")
			}
			if a, b := withoutOrigins(t, want), withoutOrigins(t, got); a != b {
				t.Errorf("document\n%s\nwant (LoadFromData)\n%s", b, a)
			}
		})
	}
}

// TestCleanJSONDocumentLeavesProblemsToTheExactLoad protects the messages
// of documents that are not clean: each must come from the exact load, whose
// origins give them their lines, so the fast load must give them up.
func TestCleanJSONDocumentLeavesProblemsToTheExactLoad(t *testing.T) {
	const head = `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, `
	for name, src := range map[string]string{
		"YAML":                 "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n",
		"syntax error":         head + `"paths": {`,
		"wrong type":           head + `"paths": {"/a": {"get": {"summary": 1, "responses": {"204": {"description": "ok"}}}}}}`,
		"reference to nowhere": head + `"paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Missing"}}}}}}`,
		"validation warning":   head + `"paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "integer"}, "example": "text"}}}}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if doc := cleanJSONDocument(context.Background(), []byte(src)); doc != nil {
				t.Errorf("cleanJSONDocument loaded a document that is not clean")
			}
		})
	}
}

// TestSpeculativeLoadStandsOnlyForItsOwnText protects the speculative load
// from being taken for text the parser rewrote after it started (lenient,
// collapseRefChains): equal bytes elsewhere in memory are rewritten text.
func TestSpeculativeLoadStandsOnlyForItsOwnText(t *testing.T) {
	data := defgen.Generate(defgen.Options{Ops: 2, Props: 1})
	s := startSpeculativeLoad(data)
	if s == nil {
		t.Fatal("no speculative load for a JSON OpenAPI definition")
	}
	if _, ok := s.result(append([]byte(nil), data...)); ok {
		t.Error("the speculative load stood for a copy of its text")
	}
	if doc, ok := s.result(data); !ok || doc == nil {
		t.Errorf("the speculative load of its own clean text: doc %v, ok %v", doc, ok)
	}
	if s := startSpeculativeLoad(defgen.Generate(defgen.Options{Ops: 2, Swagger: true})); s != nil {
		t.Error("a speculative load started for Swagger 2.0, which never takes the fast load")
	}
}
