package defgen

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestGenerateWritesTheAskedShape protects the inputs of the scaling
// benchmarks: valid JSON with exactly the operations, properties and chain
// links asked for, in both formats.
func TestGenerateWritesTheAskedShape(t *testing.T) {
	for _, o := range []Options{
		{Ops: 0}, {Ops: 1}, {Ops: 5, Props: 3}, {Chain: 4}, {Ops: 3, Chain: 2},
		{Ops: 5, Props: 2, Swagger: true}, {Chain: 3, Swagger: true}, {Ops: 4, Bare: true}, {Ops: 4, Bare: true, Swagger: true},
	} {
		data := Generate(o)
		var doc struct {
			Paths       map[string]map[string]any
			Definitions map[string]map[string]any
			Components  struct{ Schemas map[string]map[string]any }
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%+v: not valid JSON: %v\n%s", o, err, data)
		}
		schemas := doc.Components.Schemas
		if o.Swagger {
			schemas = doc.Definitions
		}
		wantPaths := o.Ops
		if o.Chain > 0 {
			wantPaths++
		}
		chainLinks, props := 0, 0
		for name, s := range schemas {
			if strings.HasPrefix(name, "S") && s["$ref"] != nil {
				chainLinks++
			}
			if name == "R0" {
				props = len(s["properties"].(map[string]any))
			}
		}
		if len(doc.Paths) != wantPaths || chainLinks != o.Chain {
			t.Errorf("%+v: %d paths, %d chain links; want %d, %d", o, len(doc.Paths), chainLinks, wantPaths, o.Chain)
		}
		if o.Bare && len(schemas) != 1 {
			t.Errorf("%+v: %d schemas, want only Common", o, len(schemas))
		}
		if o.Ops > 0 && !o.Bare && props != o.Props+1 {
			t.Errorf("%+v: R0 has %d properties, want %d", o, props, o.Props+1)
		}
	}
}
