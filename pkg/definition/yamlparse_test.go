package definition

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/definition/defgen"
)

// describe lists every node with its position, style and comments.
func describe(n *yaml.Node, out *strings.Builder) {
	fmt.Fprintf(out, "%d:%d k%d s%d %s %q %q %q %q\n", n.Line, n.Column, n.Kind, n.Style, n.Tag, n.Value, n.HeadComment, n.LineComment, n.FootComment)
	for _, c := range n.Content {
		describe(c, out)
	}
}

// TestJSONParsesToTheSameTree protects the faster parse of JSON documents:
// the node tree, positions included, and the errors are yaml.Unmarshal's.
func TestJSONParsesToTheSameTree(t *testing.T) {
	for _, src := range []string{
		`{"openapi": "3.0.3", "paths": {"/a": {"get": {"parameters": [{"name": "x", "in": "query"}, 1, "two", null, true]}}}}`,
		"\n\n  {\n    \"a\": [1, {\"b\": {\"c\": \"d\"}}],\n    \"e\": \"Ünïcode\"\n  }\n",
		"\r\n{\"a\": {\"b\": 1},\r\n \"c\": [2]}\r\n",
		"\t{\"a\": 1}",
		"{openapi: 3.0.3, info: {title: t}} # a YAML flow mapping\n",
		`{"a": }`,
		`{"a": 1, "a": 2}`,
		"{\"a\": 1}\n{\"b\": 2}",
		"openapi: 3.0.3\n",
		"[1, 2]",
	} {
		var want, got yaml.Node
		wantErr := yaml.Unmarshal([]byte(src), &want)
		gotErr := unmarshalTree([]byte(src), &got)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%q: error %v, want %v", src, gotErr, wantErr)
			continue
		}
		var a, b strings.Builder
		describe(&want, &a)
		describe(&got, &b)
		if a.String() != b.String() {
			t.Errorf("%q: tree\n%s\nwant\n%s", src, b.String(), a.String())
		}
	}
}

func TestWithDocumentStartOnlyForJSONObjects(t *testing.T) {
	for src, want := range map[string]string{
		`{"a": 1}`:         "--- {\"a\": 1}",
		"\n  {\"a\": 1}":   "\n---   {\"a\": 1}",
		"\r\n\r\n{}":       "\r\n\r\n--- {}",
		"openapi: 3.0.3":   "",
		"# c\n{\"a\": 1}":  "",
		"[{\"a\": 1}]":     "",
		"\ufeff{\"a\": 1}": "",
	} {
		got, _ := withDocumentStart([]byte(src))
		if string(got) != want {
			t.Errorf("withDocumentStart(%q) = %q, want %q", src, got, want)
		}
	}
}

// TestJSONParseDoesNotQueueTheWholeDocument protects the reason for the
// "---": without it, the YAML parser holds every token of a JSON document
// at once, allocating several times more than the tree it builds.
func TestJSONParseDoesNotQueueTheWholeDocument(t *testing.T) {
	data := defgen.Generate(defgen.Options{Ops: 200, Props: 20})
	allocated := func(parse func([]byte, *yaml.Node) error) uint64 {
		var before, after runtime.MemStats
		var n yaml.Node
		runtime.ReadMemStats(&before)
		if err := parse(data, &n); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	plain := allocated(func(d []byte, n *yaml.Node) error { return yaml.Unmarshal(d, n) })
	ours := allocated(unmarshalTree)
	t.Logf("%d bytes of JSON: yaml.Unmarshal allocates %d bytes, unmarshalTree %d", len(data), plain, ours)
	if ours > plain/3 {
		t.Errorf("unmarshalTree allocates %d bytes for %d bytes of JSON, yaml.Unmarshal %d; want less than a third", ours, len(data), plain)
	}
}

func newTestLoader() *openapi3.Loader {
	l := openapi3.NewLoader()
	l.IncludeOrigin = true
	return l
}

// TestLoadOpenAPIGivesKinOpenAPIsResult compares loadOpenAPI with
// LoadFromData on JSON documents that take each of kin-openapi's paths.
func TestLoadOpenAPIGivesKinOpenAPIsResult(t *testing.T) {
	const head = `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, `
	for name, src := range map[string]string{
		"valid":                  head + `"paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}}, "components": {"schemas": {"A": {"type": "string"}}}}`,
		"duplicate keys":         head + `"paths": {}, "paths": {"/b": {"get": {"responses": {"204": {"description": "ok"}}}}}}`,
		"U+0085 in a string":     head + "\"paths\": {\"/a\": {\"get\": {\"description\": \"one\u0085two\", \"responses\": {\"204\": {\"description\": \"ok\"}}}}}}",
		"syntax error":           head + `"paths": {`,
		"reference to nowhere":   head + `"paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Missing"}}}}}}}}}`,
		"indented on a new line": "\n\n    " + head + `"paths": {}}`,
	} {
		t.Run(name, func(t *testing.T) {
			want, wantErr := newTestLoader().LoadFromData([]byte(src))
			got, gotErr := loadOpenAPI(newTestLoader(), []byte(src))
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("error %v, want %v", gotErr, wantErr)
			}
			if wantErr != nil {
				return
			}
			a, _ := want.MarshalJSON()
			b, _ := got.MarshalJSON()
			if string(a) != string(b) {
				t.Errorf("document\n%s\nwant\n%s", b, a)
			}
		})
	}
}

// TestOpenAPILoadDoesNotQueueTheWholeDocument is the parse test above for
// kin-openapi's own parse of the document.
func TestOpenAPILoadDoesNotQueueTheWholeDocument(t *testing.T) {
	data := defgen.Generate(defgen.Options{Ops: 200, Props: 20})
	allocated := func(load func([]byte) (*openapi3.T, error)) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := load(data); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	plain := allocated(newTestLoader().LoadFromData)
	ours := allocated(func(d []byte) (*openapi3.T, error) { return loadOpenAPI(newTestLoader(), d) })
	t.Logf("%d bytes of JSON: LoadFromData allocates %d bytes, loadOpenAPI %d", len(data), plain, ours)
	if ours > plain/2 {
		t.Errorf("loadOpenAPI allocates %d bytes for %d bytes of JSON, LoadFromData %d; want less than half", ours, len(data), plain)
	}
}
