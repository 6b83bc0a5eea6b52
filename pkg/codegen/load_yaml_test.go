package codegen

import (
	"fmt"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"
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
