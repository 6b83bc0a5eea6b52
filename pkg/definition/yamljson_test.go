package definition

import (
	"context"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/definition/defgen"
)

// yamlRoot parses src as the parser does and returns its top-level node.
func yamlRoot(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := unmarshalTree([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return deref(&doc)
}

// TestYAMLAsJSONIsWhatLoadFromDataReads protects the fast load of clean
// YAML definitions: the JSON that yamlAsJSON writes from the parser's tree
// must load into the document kin-openapi's LoadFromData reads from the
// YAML, origins aside, in every notation the conversion accepts.
func TestYAMLAsJSONIsWhatLoadFromDataReads(t *testing.T) {
	generated, err := defgen.ToYAML(defgen.Generate(defgen.Options{Ops: 20, Props: 3}))
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"generated": string(generated),
		"notations": `openapi: 3.0.3
info:
  title: "quotes \" and \\ and \t tab"
  version: "1.0"
  description: |
    line one
    line two: ünïcödé ✓
x-wso2-basePath: /t
x-codes: {1: one, -2: two, "3": three}
x-flags: [True, false, ~, null, -7, 1.5e3, 0.25, 2020-06-11T16:32:50Z, !md tagged]
paths:
  /a/{id}:
    get:
      summary: !md hello
      parameters:
        - name: id
          in: path
          required: true
          schema: {type: integer, minimum: -10, maximum: 1e3, default: 7}
          example: 12
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/A'}
              example: {id: 1.5, when: 2020-06-11, tags: [x, null]}
        '404': {description: missing}
components:
  schemas:
    A:
      type: object
      nullable: true
      properties:
        id: {type: number, multipleOf: 0.5}
        when: {type: string, format: date}
        tags: {type: array, items: {type: string, nullable: true}}
`,
	} {
		t.Run(name, func(t *testing.T) {
			want, err := newTestLoader().LoadFromData([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			j, ok := yamlAsJSON(yamlRoot(t, src))
			if !ok {
				t.Fatal("yamlAsJSON declined the document")
			}
			got := cleanJSONDocument(context.Background(), j)
			if got == nil {
				t.Fatalf("cleanJSONDocument found the converted document not clean:\n%s", j)
			}
			if a, b := withoutOrigins(t, want), withoutOrigins(t, got); a != b {
				t.Errorf("document\n%s\nwant (LoadFromData)\n%s", b, a)
			}
		})
	}
}

// TestYAMLAsJSONDeclinesWhatItCannotSpell protects the exactness of the
// fast YAML load: for each notation whose reading the conversion does not
// reproduce, it must decline, so the document is loaded the exact way.
func TestYAMLAsJSONDeclinesWhatItCannotSpell(t *testing.T) {
	const head = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
	for name, extra := range map[string]string{
		"anchor and alias":                 "x-a: &a {b: 1}\nx-c: *a\n",
		"merge key":                        "x-a: {b: 1}\nx-c: {<<: {b: 1}, d: 2}\n",
		"duplicate key":                    "x-a: {b: 1, b: 2}\n",
		"duplicate key in a large mapping": "x-a: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, k11: 11, k12: 12, k13: 13, k14: 14, k15: 15, k16: 16, k17: 17, k1: 18}\n",
		"float key":                        "x-a: {2.5: 1}\n",
		"boolean key":                      "x-a: {true: 1}\n",
		"octal-looking key":                "x-a: {0200: 1}\n",
		"null key":                         "x-a: {~: 1}\n",
		"sequence key":                     "x-a: {[1, 2]: 1}\n",
		"hexadecimal":                      "x-a: 0x2A\n",
		"underscores":                      "x-a: 1_000\n",
		"leading dot":                      "x-a: .5\n",
		"infinity":                         "x-a: .inf\n",
		"not a number":                     "x-a: .nan\n",
		"binary":                           "x-a: !!binary aGVsbG8=\n",
		"explicit plus":                    "x-a: +5\n",
	} {
		t.Run(name, func(t *testing.T) {
			if j, ok := yamlAsJSON(yamlRoot(t, head+extra)); ok {
				t.Errorf("yamlAsJSON wrote %s", j)
			}
		})
	}
}
