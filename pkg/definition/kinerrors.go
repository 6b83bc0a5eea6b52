package definition

import (
	"errors"
	"reflect"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"
)

// kin-openapi reports what it cannot load or finds invalid as errors that
// carry, somewhere in their chain, an origin, a JSON pointer, or the path,
// operation or component they concern. The functions here find the line
// and the place ("GET /pet") each names.

// kinError turns a kin-openapi load error into a Error with the
// line and place the error chain allows to find. A decode error lists every
// problem with its line: all but the last are collected, the last returned.
func (p *parser) kinError(err error, what string) error {
	std := "the OpenAPI 3.0/3.1 specification"
	if p.swagger {
		std = "the Swagger 2.0 specification"
	}
	hint := "correct it so that it follows " + std

	var les *yaml.LoadErrors
	if errors.As(err, &les) && len(les.Errors) > 1 {
		for _, le := range les.Errors[:len(les.Errors)-1] {
			p.collect(p.fail(lineNode(le.Mark.Line), "", what+": "+le.Message, hint))
		}
		last := les.Errors[len(les.Errors)-1]
		e := p.fail(lineNode(last.Mark.Line), "", what+": "+last.Message, hint)
		e.Err = err
		return e
	}

	at, place := p.kinLocate(err)
	msg := err.Error()
	var le *yaml.LoadError
	var dre *openapi3.DisallowedExternalRefError
	if errors.As(err, &dre) {
		hint = "references must point inside the same file (#/...); copy the referenced part in"
		at = findRef(p.root, dre.Ref)
	}
	if p.swagger {
		msg = swaggerRefs.Replace(msg)
	}
	switch {
	case at != nil:
	case errors.As(err, &les) && len(les.Errors) > 0:
		at = lineNode(les.Errors[0].Mark.Line)
	case errors.As(err, &le):
		at = lineNode(le.Mark.Line)
	default:
		// A reference the loader could not use: point at it.
		if m := quotedRef.FindStringSubmatch(msg); m != nil {
			at = findRef(p.root, m[1])
		}
	}
	e := p.fail(at, place, what+": "+msg, hint)
	e.Err = err
	return e
}

// quotedRef finds a local reference quoted in a kin-openapi message.
var quotedRef = regexp.MustCompile(`"(#/[^"]*)"`)

// swaggerRefs writes the references of a Swagger 2.0 document converted to
// OpenAPI 3 back as the user wrote them.
var swaggerRefs = strings.NewReplacer("#/components/schemas/", "#/definitions/", "#/components/parameters/", "#/parameters/",
	"#/components/responses/", "#/responses/", "#/components/securitySchemes/", "#/securityDefinitions/")

// kinLocate finds where a kin-openapi error points in the document: the
// innermost origin of the chain (set because the loader runs with
// IncludeOrigin), else the JSON pointer it names, else its path and
// operation, component or section. place is "GET /pet" when known.
func (p *parser) kinLocate(err error) (at *yaml.Node, place string) {
	var sec *openapi3.SectionValidationError
	var pth *openapi3.PathValidationError
	var op *openapi3.OperationValidationError
	var pp *openapi3.PathParametersError
	var comp *openapi3.ComponentValidationError
	pathKey, method := "", ""
	if errors.As(err, &pth) {
		pathKey = pth.Path
	}
	if errors.As(err, &op) {
		method = op.Method
	}
	if errors.As(err, &pp) {
		pathKey, method = pp.Path, pp.Method
	}
	if pathKey != "" {
		place = strings.TrimSpace(strings.ToUpper(method) + " " + showPath(pathKey))
	}

	if line, col := originOf(err); line > 0 {
		return &yaml.Node{Line: line, Column: p.originalColumn(line, col)}, place
	}
	if ptr := pointerOf(err); ptr != "" {
		if n := p.pointerNode(ptr); n != nil {
			return n, place
		}
	}
	switch {
	case pathKey != "":
		item := lookup(p.root, "paths", pathKey)
		if opNode := get(item, strings.ToLower(method)).key; method != "" && opNode != nil {
			return opNode, place
		}
		return get(get(p.root, "paths").val, pathKey).key, place
	case errors.As(err, &comp):
		return p.componentKey(comp.Section, comp.Name), place
	case errors.As(err, &sec):
		return get(p.root, sec.Section).key, place
	}
	// A field of the document itself, which carries no origin.
	var field string
	walkErrors(err, func(e error) {
		if f := fieldOf(e); f != "" {
			field = f
		}
	})
	return get(p.root, field).key, place
}

// findRef returns the first "$ref": ref key in the tree, or nil.
func findRef(n *yaml.Node, ref string) *yaml.Node {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		if r := get(n, "$ref"); r.val != nil && r.val.Value == ref {
			return r.key
		}
	}
	for _, c := range n.Content {
		if c.Kind != yaml.AliasNode {
			if at := findRef(c, ref); at != nil {
				return at
			}
		}
	}
	return nil
}

// componentKey finds the key node of a component named in a validation error.
func (p *parser) componentKey(section, name string) *yaml.Node {
	oas3 := map[string]string{"schema": "schemas", "parameter": "parameters", "header": "headers",
		"request body": "requestBodies", "response": "responses", "security scheme": "securitySchemes",
		"example": "examples", "link": "links", "callback": "callbacks"}
	if p.swagger {
		sw := map[string]string{"schema": "definitions", "parameter": "parameters", "response": "responses", "security scheme": "securityDefinitions"}
		return get(get(p.root, sw[section]).val, name).key
	}
	return get(lookup(p.root, "components", oas3[section]), name).key
}

// originOf returns the position of the innermost error in the chain that
// carries a kin-openapi Origin. kin-openapi's validation errors keep it in a
// field named Origin, each type its own; reflection reads them all. An
// error about one field of the object (an example or a default that does
// not match its schema: ValueKind) points at that field.
func originOf(err error) (line, col int) {
	walkErrors(err, func(e error) {
		o, ok := errorField(e, "Origin").(*openapi3.Origin)
		if !ok || o == nil || o.Key == nil || o.Key.Line <= 0 {
			return
		}
		line, col = o.Key.Line, o.Key.Column
		if loc, ok := o.Fields.Lookup(fieldOf(e)); ok && loc.Line > 0 {
			line, col = loc.Line, loc.Column
		}
	})
	return line, col
}

// fieldOf returns the field of its object an error is about: a value that
// does not match its schema (ValueKind: "example", "default"), a field
// that the document's version does not allow (Field), or "".
func fieldOf(e error) string {
	for _, name := range []string{"ValueKind", "Field"} {
		if f, ok := errorField(e, name).(string); ok && f != "" {
			return f
		}
	}
	return ""
}

// pointerOf returns the JSON pointer the innermost error of the chain names.
func pointerOf(err error) string {
	ptr := ""
	walkErrors(err, func(e error) {
		if s, ok := errorField(e, "JSONPointer").(string); ok && s != "" {
			ptr = s
		}
	})
	return ptr
}

// errorField returns the named field of a pointer-to-struct error, or nil.
func errorField(e error, name string) any {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || !f.CanInterface() {
		return nil
	}
	return f.Interface()
}

// walkErrors calls fn on every error of the chain, depth first.
func walkErrors(err error, fn func(error)) {
	for err != nil {
		fn(err)
		switch x := err.(type) {
		case openapi3.MultiError:
			for _, e := range x {
				walkErrors(e, fn)
			}
			return
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walkErrors(e, fn)
			}
			return
		}
		err = errors.Unwrap(err)
	}
}
