// Package defgen writes synthetic API definitions of a chosen size, so that
// the loader's cost can be measured (and checked to grow linearly) on inputs
// that are generated, not downloaded: pkg/definition's scaling test and
// benchmark, and the "build scaling" section of make bench (bench/benchtool).
package defgen

import (
	"bytes"
	"strconv"

	"go.yaml.in/yaml/v4"
)

// Options describes the definition to generate.
type Options struct {
	// Ops is the number of operations, one per path; odd ones are POSTs
	// with a request body.
	Ops int
	// Props is the number of string properties of each operation's schema,
	// on top of its two $ref properties; it sets the size per operation
	// (about 190 bytes each).
	Props int
	// Chain adds component schemas S0 ... S<Chain> where each Si is only a
	// $ref to S(i+1), and one operation GET /chain answering S0.
	Chain int
	// Swagger writes Swagger 2.0 (definitions, #/definitions/ refs) instead
	// of OpenAPI 3.0.
	Swagger bool
	// Bare makes each operation a GET with only a 200 response, no
	// parameters and no schema (about 130 bytes each), like a file of many
	// small paths; Props is then ignored.
	Bare bool
}

// Generate returns the definition as indented JSON, the form large public
// descriptions are published in. Every operation has a path and a query
// parameter and answers its own component schema R<i> by $ref; each R<i>
// refers to a shared schema and to R<i-1>, so that, as in real descriptions,
// the schemas form one connected graph that every operation reaches deep
// into.
func Generate(o Options) []byte {
	g := &gen{swagger: o.Swagger, bare: o.Bare}
	g.raw("{")
	if o.Swagger {
		g.line(1, `"swagger": "2.0",`)
		g.line(1, `"basePath": "/gen",`)
	} else {
		g.line(1, `"openapi": "3.0.3",`)
		g.line(1, `"x-wso2-basePath": "/gen",`)
	}
	g.line(1, `"info": {"title": "generated", "version": "1.0"},`)
	g.line(1, `"x-wso2-production-endpoints": {"urls": ["http://127.0.0.1:8080"]},`)
	g.line(1, `"paths": {`)
	for i := range o.Ops {
		g.sep(i)
		g.operation(i)
	}
	if o.Chain > 0 {
		g.sep(o.Ops)
		g.line(2, `"/chain": {"get": {"responses": {"200": {"description": "the end of the chain", `+g.body("S0")+`}}}}`)
	}
	g.line(1, "},")
	if o.Swagger {
		g.line(1, `"definitions": {`)
	} else {
		g.line(1, `"components": {"schemas": {`)
	}
	g.line(2, `"Common": {"type": "object", "properties": {"id": {"type": "string"}, "created": {"type": "integer", "format": "int64"}}}`)
	for i := range o.Ops {
		if !o.Bare {
			g.raw(",")
			g.schema(i, o.Props)
		}
	}
	for i := range o.Chain {
		g.raw(",")
		g.line(2, `"S`+strconv.Itoa(i)+`": {"$ref": "`+g.ref("S"+strconv.Itoa(i+1))+`"}`)
	}
	if o.Chain > 0 {
		g.raw(",")
		g.line(2, `"S`+strconv.Itoa(o.Chain)+`": {"type": "string"}`)
	}
	if o.Swagger {
		g.line(1, "}")
	} else {
		g.line(1, "}}")
	}
	g.line(0, "}\n")
	return g.b.Bytes()
}

type gen struct {
	b             bytes.Buffer
	swagger, bare bool
}

func (g *gen) raw(s string) { g.b.WriteString(s) }

// line starts a new line indented by depth levels and writes s.
func (g *gen) line(depth int, s string) {
	g.b.WriteByte('\n')
	for range depth {
		g.b.WriteString("  ")
	}
	g.b.WriteString(s)
}

// sep writes the comma before every element but the first (i == 0).
func (g *gen) sep(i int) {
	if i > 0 {
		g.raw(",")
	}
}

// ref is the reference to the named schema.
func (g *gen) ref(name string) string {
	if g.swagger {
		return "#/definitions/" + name
	}
	return "#/components/schemas/" + name
}

// body is the schema of a request or response body, minus braces.
func (g *gen) body(name string) string {
	if g.swagger {
		return `"schema": {"$ref": "` + g.ref(name) + `"}`
	}
	return `"content": {"application/json": {"schema": {"$ref": "` + g.ref(name) + `"}}}`
}

func (g *gen) operation(i int) {
	n := strconv.Itoa(i)
	if g.bare {
		g.line(2, `"/p`+n+`": {"get": {"operationId": "getP`+n+`", "summary": "Reads item `+n+`", "responses": {"200": {"description": "the item"}}}}`)
		return
	}
	name := "R" + n
	method := "get"
	if i%2 == 1 {
		method = "post"
	}
	g.line(2, `"/r`+n+`/{id}": {`)
	g.line(3, `"`+method+`": {`)
	g.line(4, `"operationId": "op`+n+`",`)
	if g.swagger {
		g.line(4, `"parameters": [{"name": "id", "in": "path", "required": true, "type": "string"}, {"name": "expand", "in": "query", "type": "array", "items": {"type": "string"}}`)
		if method == "post" {
			g.raw(`, {"name": "body", "in": "body", "schema": {"$ref": "` + g.ref(name) + `"}}`)
		}
		g.raw("],")
	} else {
		g.line(4, `"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "expand", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}],`)
		if method == "post" {
			g.line(4, `"requestBody": {`+g.body(name)+`},`)
		}
	}
	g.line(4, `"responses": {"200": {"description": "the `+name+`", `+g.body(name)+`}}`)
	g.line(3, "}")
	g.line(2, "}")
}

func (g *gen) schema(i, props int) {
	n := strconv.Itoa(i)
	g.line(2, `"R`+n+`": {`)
	g.line(3, `"type": "object",`)
	g.line(3, `"required": ["common"],`)
	g.line(3, `"properties": {`)
	g.line(4, `"common": {"$ref": "`+g.ref("Common")+`"}`)
	if i > 0 {
		g.raw(",")
		g.line(4, `"prev": {"$ref": "`+g.ref("R"+strconv.Itoa(i-1))+`"}`)
	}
	for j := range props {
		f := strconv.Itoa(j)
		g.raw(",")
		g.line(4, `"field`+f+`": {"type": "string", "maxLength": 5000, "description": "Field `+f+` of R`+n+`, described at the length that public API descriptions use."}`)
	}
	g.line(3, "}")
	g.line(2, "}")
}

// ToYAML rewrites a generated definition (JSON) as block-style YAML, the
// form most hand-written definitions take, keeping every value's type.
func ToYAML(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var block func(n *yaml.Node)
	block = func(n *yaml.Node) {
		if n.Kind != yaml.ScalarNode {
			n.Style = 0
		} else if n.Style == yaml.DoubleQuotedStyle {
			n.Style = 0 // quoted again by Marshal where plain would change the type
		}
		for _, c := range n.Content {
			block(c)
		}
	}
	block(&doc)
	return yaml.Marshal(&doc)
}
