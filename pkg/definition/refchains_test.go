package definition

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"
)

func treeOf(t *testing.T, data []byte) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return deref(&doc)
}

// refsOf lists every "$ref" value of the tree by the line it is on.
func refsOf(n *yaml.Node, out map[int][]string) map[int][]string {
	n = deref(n)
	if n == nil {
		return out
	}
	if n.Kind == yaml.MappingNode {
		if r := get(n, "$ref"); r.val != nil {
			out[r.val.Line] = append(out[r.val.Line], r.val.Value)
		}
	}
	for _, c := range n.Content {
		refsOf(c, out)
	}
	return out
}

// lines lists the line of every node, in document order.
func lines(n *yaml.Node, out []int) []int {
	out = append(out, n.Line)
	for _, c := range n.Content {
		out = lines(c, out)
	}
	return out
}

func TestRefChainsPointAtTheirEnd(t *testing.T) {
	for name, c := range map[string]struct {
		src  string
		want map[int][]string // line -> refs on it after collapsing
	}{
		"yaml": {`openapi: 3.0.3
components:
  schemas:
    S0: {$ref: "#/components/schemas/S1"}
    S1:
      $ref: '#/components/schemas/S2'
    S2: {"$ref": "#/components/schemas/S3"}
    S3: {type: string, description: "Ünïcode before: the columns count characters"}
    U: {description: "Ünï", allOf: [{$ref: "#/components/schemas/S0"}, {$ref: '#/components/schemas/S3'}]}
`, map[int][]string{
			4: {"#/components/schemas/S3"}, 6: {"#/components/schemas/S3"}, 7: {"#/components/schemas/S3"},
			9: {"#/components/schemas/S3", "#/components/schemas/S3"},
		}},
		"json on one line, with escaped slashes": {
			`{"openapi": "3.0.3", "x": "Ünï", "components": {"schemas": {"A": {"$ref": "#\/components\/schemas\/B"}, "B": {"$ref": "#/components/schemas/C"}, "C": {"type": "integer"}}}}`,
			map[int][]string{1: {"#/components/schemas/C", "#/components/schemas/C"}},
		},
		"escaped names and paths": {`openapi: 3.0.3
paths:
  /a/{id}: {$ref: '#/paths/~1b~1{id}'}
  /b/{id}: {$ref: '#/paths/~1c~1{id}'}
  /c/{id}: {get: {responses: {'204': {description: ok}}}}
components:
  schemas:
    a~b: {$ref: '#/components/schemas/c~1d'}
    c/d: {$ref: '#/components/schemas/e'}
    e: {type: string}
    f: {$ref: '#/components/schemas/a~0b'}
`, map[int][]string{
			3: {"#/paths/~1c~1{id}"}, 4: {"#/paths/~1c~1{id}"},
			8: {"#/components/schemas/e"}, 9: {"#/components/schemas/e"}, 11: {"#/components/schemas/e"},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			data := []byte(c.src)
			old := treeOf(t, data)
			out := collapseRefChains(old, data)
			tree := treeOf(t, out)
			got := refsOf(tree, map[int][]string{})
			for line, refs := range c.want {
				if strings.Join(got[line], " ") != strings.Join(refs, " ") {
					t.Errorf("line %d: refs %q, want %q", line, got[line], refs)
				}
			}
			if a, b := lines(old, nil), lines(tree, nil); !slices.Equal(a, b) {
				t.Errorf("lines moved:\nbefore %v\nafter  %v", a, b)
			}
			if !bytes.Equal(collapseRefChains(tree, out), out) {
				t.Errorf("collapsing again changed the document")
			}
		})
	}
}

// TestRefChainsLeftAsWritten covers what must not change: chains that end
// nowhere or loop (the loader reports them), and "$ref" keys that are data.
func TestRefChainsLeftAsWritten(t *testing.T) {
	for name, src := range map[string]string{
		"no chain": `{"openapi": "3.0.3", "components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"type": "string"}}}}`,
		"ends nowhere": `openapi: 3.0.3
components:
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {$ref: '#/components/schemas/Missing'}
`,
		"loops": `openapi: 3.0.3
components:
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {$ref: '#/components/schemas/A'}
`,
		"data and extensions": `openapi: 3.0.3
x-notes: {$ref: '#/components/schemas/A'}
components:
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {type: object, example: {$ref: '#/components/schemas/A'}, default: {$ref: '#/components/schemas/A'}, enum: [{$ref: '#/components/schemas/A'}]}
`,
		"percent-encoded": `openapi: 3.0.3
components:
  schemas:
    A: {$ref: '#/components/schemas/B%20C'}
    B C: {$ref: '#/components/schemas/D'}
    D: {type: string}
`,
	} {
		t.Run(name, func(t *testing.T) {
			data := []byte(src)
			if out := collapseRefChains(treeOf(t, data), data); !bytes.Equal(out, data) {
				t.Errorf("changed:\n%s", out)
			}
		})
	}
}

// TestLoaderErrorsAfterARefChainKeepTheirLines loads definitions with a
// collapsed chain and a problem after it: the error names the line as
// written.
func TestLoaderErrorsAfterARefChainKeepTheirLines(t *testing.T) {
	src := `openapi: 3.0.3
info: {title: t, version: '1'}
x-wso2-production-endpoints: {urls: ['http://127.0.0.1:8080']}
paths:
  /a:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/S0"}}}}}
components:
  schemas:
    S0: {$ref: "#/components/schemas/S1"}
    S1: {$ref: "#/components/schemas/S2"}
    S2: {type: object, properties: {n: {$ref: "#/components/schemas/N"}}}
    N:
      type: integer
      default: many
`
	// A default of the wrong type is a warning (it does not change routing).
	_, warnings, err := Parse("chain.yaml", []byte(src))
	if err != nil {
		t.Fatalf("err = %v, want warnings only", err)
	}
	var defaults []Warning
	for _, w := range warnings {
		if strings.Contains(w.String(), "invalid default") {
			defaults = append(defaults, w)
		}
	}
	if len(defaults) != 1 || defaults[0].Line != 15 {
		t.Errorf("warnings = %v, want one at line 15 (N's default)", defaults)
	}

	// A chain that ends nowhere is left as written: the missing schema is
	// reported where the chain ends, not where it starts.
	broken := strings.Replace(src, `S2: {type: object`, `S2: {$ref: "#/components/schemas/Missing"}
    S3: {type: object`, 1)
	_, warnings, err = Parse("chain.yaml", []byte(broken))
	if err != nil {
		t.Fatalf("err = %v, want a warning for the missing schema", err)
	}
	found := false
	for _, w := range warnings {
		if w.Line == 12 && strings.Contains(w.String(), `"#/components/schemas/Missing" does not resolve`) {
			found = true
		}
	}
	if !found {
		t.Errorf("warnings = %v, want one at line 12 for the missing schema", warnings)
	}
}
