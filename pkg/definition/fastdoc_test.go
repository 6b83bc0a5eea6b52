package definition

import (
	"context"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/definition/defgen"
)

// fastDocumentOf runs the parser's fast load on src as the parser would
// (its tree parsed, the text not rewritten) and returns what it loaded,
// nil when it left src to the exact load.
func fastDocumentOf(t *testing.T, src string) any {
	t.Helper()
	p := &parser{text: []byte(src), root: yamlRoot(t, src)}
	if d := p.fastDocument(p.text); d != nil {
		return d
	}
	return nil
}

// TestFastLoadReadsRepeatedKeysAsTheExactLoad protects the document the
// gateway is built from against a definition that repeats a key:
// encoding/json merges a repeated "content" into the first, the exact load
// keeps the last, so the fast load would accept request bodies the
// definition does not declare. The fast load must leave such a text to the
// exact load, or read it the same.
func TestFastLoadReadsRepeatedKeysAsTheExactLoad(t *testing.T) {
	for name, src := range map[string]string{
		"request body content": `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "integer"}}}, "content": {"text/plain": {"schema": {"type": "string"}}}}, "responses": {"200": {"description": "ok"}}}}}}`,
		"schema properties":    `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {"parameters": [{"name": "q", "in": "query", "schema": {"type": "object", "properties": {"a": {"type": "string"}}, "properties": {"b": {"type": "string"}}}}], "responses": {"200": {"description": "ok"}}}}}}`,
		"webhooks":             `{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}, "webhooks": {"w1": {"post": {"responses": {"200": {"description": "ok"}}}}}, "webhooks": {"w2": {"post": {"responses": {"200": {"description": "ok"}}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			want, err := newTestLoader().LoadFromData([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			got := fastDocumentOf(t, src)
			if got == nil {
				return // left to the exact load
			}
			if a, b := withoutOrigins(t, want), withoutOrigins(t, got.(interface{ MarshalJSON() ([]byte, error) })); a != b {
				t.Errorf("document\n%s\nwant (LoadFromData)\n%s", b, a)
			}
		})
	}
}

// TestFastLoadLeavesMiscasedRefsToTheExactLoad protects a definition whose
// "$ref" is written in another case: encoding/json resolves "$REF" as a
// reference, the exact load keeps it as an unknown member and reports what
// is missing (or fails the build where request validation needs the
// schema). The fast load must not resolve it silently.
func TestFastLoadLeavesMiscasedRefsToTheExactLoad(t *testing.T) {
	for name, src := range map[string]string{
		"JSON response": `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"$Ref": "#/components/responses/R"}}}}}, "components": {"responses": {"R": {"description": "ok"}}}}`,
		"YAML schema":   "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$REF: '#/components/schemas/S'}\n      responses:\n        '200': {description: ok}\ncomponents:\n  schemas:\n    S: {type: integer}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if fastDocumentOf(t, src) != nil {
				t.Error("the fast load resolved a miscased $ref that the exact load keeps as an unknown member")
			}
		})
	}
}

// TestFastLoadAcceptsNothingTheExactLoadRefuses protects against the YAML
// conversion trusting an explicit tag whatever its text: go-yaml refuses
// !!null 5 or !!bool tRuE, so the exact load fails, and the fast load must
// not build a value the text never had.
func TestFastLoadAcceptsNothingTheExactLoadRefuses(t *testing.T) {
	const head = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {description: ok}\n"
	for name, extra := range map[string]string{
		"null tag on a number":     "x-a: !!null 5\n",
		"null tag on text":         "x-a: !!null \"x\"\n",
		"bool tag on mixed case":   "x-a: !!bool tRuE\n",
		"int tag on negative zero": "x-a: !!int \"-0\"\n",
		"int tag beyond 64 bits":   "x-a: !!int 99999999999999999999\n",
		"int tag below int64":      "x-a: !!int \"-9223372036854775809\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			src := head + extra
			if _, err := newTestLoader().LoadFromData([]byte(src)); err == nil {
				t.Fatalf("LoadFromData accepts %q; the case tests nothing", extra)
			}
			if fastDocumentOf(t, src) != nil {
				t.Errorf("the fast load accepted %q, which the exact load refuses", extra)
			}
		})
	}
}

// TestCleanJSONDocumentStopsWhenNotWanted protects the machine from a second
// whole load of a file the parser has already refused or finished: a load
// whose context has ended gives up between its steps.
func TestCleanJSONDocumentStopsWhenNotWanted(t *testing.T) {
	data := defgen.Generate(defgen.Options{Ops: 20, Props: 1})
	if cleanJSONDocument(context.Background(), data) == nil {
		t.Fatal("the generated definition is not clean; the case tests nothing")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if cleanJSONDocument(ctx, data) != nil {
		t.Error("a load whose context had ended went on to the end")
	}
}
