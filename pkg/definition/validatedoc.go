package definition

import (
	"context"
	"slices"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
)

// validateDoc returns what doc.Validate(ctx, opts...) returns, in time that
// grows linearly with the document instead of quadratically.
//
// kin-openapi validates each schema entry point (every components.schemas
// entry, every parameter and media type schema) with its own set of visited
// schemas, so each entry walks again everything it reaches. When schemas
// form one connected graph, as in Stripe's or Cloudflare's descriptions,
// that is entry points × graph size.
//
// So every schema reachable from the entry points is first validated in one
// walk, as the properties of one synthetic schema: each is visited once, with
// the options kin-openapi validates entry points with. If all are valid, the
// entry points are swapped for a copy holding an empty schema while
// doc.Validate checks the rest of the document, and put back. Entry points
// whose owner has examples keep their schema, since the examples are checked
// against it. If a schema is invalid, doc.Validate runs on the document
// as it is, so that the errors are exactly kin-openapi's.
func validateDoc(ctx context.Context, doc *openapi3.T, opts ...openapi3.ValidationOption) error {
	e := collectSchemaEntries(doc)
	if err := e.validateSchemas(ctx, doc, opts); err != nil {
		return doc.Validate(ctx, opts...)
	}
	defer e.swap()()
	return doc.Validate(ctx, opts...)
}

// schemaEntries are the places where the document holds a schema entry point.
type schemaEntries struct {
	components *openapi3.Components
	// slots are the Schema fields of parameters and media types whose
	// examples do not depend on the schema.
	slots []**openapi3.SchemaRef
	// all holds every entry point, swapped or not, for the one walk.
	all []*openapi3.SchemaRef

	mediaTypes map[*openapi3.MediaType]bool
	parameters map[*openapi3.Parameter]bool
	callbacks  map[*openapi3.Callback]bool
}

func collectSchemaEntries(doc *openapi3.T) *schemaEntries {
	e := &schemaEntries{
		mediaTypes: map[*openapi3.MediaType]bool{},
		parameters: map[*openapi3.Parameter]bool{},
		callbacks:  map[*openapi3.Callback]bool{},
	}
	if c := doc.Components; c != nil {
		e.components = c
		for _, s := range c.Schemas {
			if s != nil {
				e.all = append(e.all, s)
			}
		}
		for _, p := range c.Parameters {
			e.parameter(p)
		}
		for _, rb := range c.RequestBodies {
			if rb != nil && rb.Value != nil {
				e.content(rb.Value.Content)
			}
		}
		for _, r := range c.Responses {
			e.response(r)
		}
		for _, cb := range c.Callbacks {
			if cb != nil {
				e.callback(cb.Value)
			}
		}
	}
	if doc.Paths != nil {
		for _, item := range doc.Paths.Map() {
			e.pathItem(item)
		}
	}
	for _, item := range doc.Webhooks {
		e.pathItem(item)
	}
	return e
}

func (e *schemaEntries) pathItem(item *openapi3.PathItem) {
	if item == nil {
		return
	}
	for _, p := range item.Parameters {
		e.parameter(p)
	}
	for _, op := range item.Operations() {
		for _, p := range op.Parameters {
			e.parameter(p)
		}
		if op.RequestBody != nil && op.RequestBody.Value != nil {
			e.content(op.RequestBody.Value.Content)
		}
		if op.Responses != nil {
			for _, r := range op.Responses.Map() {
				e.response(r)
			}
		}
		for _, cb := range op.Callbacks {
			if cb != nil {
				e.callback(cb.Value)
			}
		}
	}
}

func (e *schemaEntries) callback(cb *openapi3.Callback) {
	if cb == nil || e.callbacks[cb] {
		return
	}
	e.callbacks[cb] = true
	for _, item := range cb.Map() {
		e.pathItem(item)
	}
}

func (e *schemaEntries) response(r *openapi3.ResponseRef) {
	if r != nil && r.Value != nil {
		e.content(r.Value.Content)
	}
}

func (e *schemaEntries) parameter(p *openapi3.ParameterRef) {
	if p == nil || p.Value == nil || e.parameters[p.Value] {
		return
	}
	v := p.Value
	e.parameters[v] = true
	e.content(v.Content)
	if v.Schema != nil {
		e.all = append(e.all, v.Schema)
		if v.Example == nil && len(v.Examples) == 0 {
			e.slots = append(e.slots, &v.Schema)
		}
	}
}

func (e *schemaEntries) content(c openapi3.Content) {
	for _, mt := range c {
		if mt == nil || e.mediaTypes[mt] {
			continue
		}
		e.mediaTypes[mt] = true
		if mt.Schema != nil {
			e.all = append(e.all, mt.Schema)
			if mt.Example == nil && len(mt.Examples) == 0 {
				e.slots = append(e.slots, &mt.Schema)
			}
		}
	}
}

// validateSchemas validates every schema the entry points reach, each once,
// with the options doc.Validate gives them.
func (e *schemaEntries) validateSchemas(ctx context.Context, doc *openapi3.T, opts []openapi3.ValidationOption) error {
	opts = slices.Clip(opts)
	if doc.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.IsOpenAPI31OrLater())
	}
	if doc.IsOpenAPI32OrLater() {
		opts = append(opts, openapi3.IsOpenAPI32OrLater())
	}
	root := &openapi3.Schema{Properties: make(openapi3.Schemas, len(e.all))}
	for i, s := range e.all {
		root.Properties[strconv.Itoa(i)] = s
	}
	return root.Validate(ctx, opts...)
}

// swap replaces the entry points with copies holding an empty schema and
// returns the function that puts them back.
func (e *schemaEntries) swap() (restore func()) {
	empty := &openapi3.Schema{}
	stub := func(s *openapi3.SchemaRef) *openapi3.SchemaRef {
		c := *s // keeps $ref and its siblings, which Validate still checks
		c.Value = empty
		return &c
	}
	var schemas openapi3.Schemas
	if e.components != nil && e.components.Schemas != nil {
		schemas = e.components.Schemas
		stubs := make(openapi3.Schemas, len(schemas))
		for name, s := range schemas {
			if s != nil {
				s = stub(s)
			}
			stubs[name] = s
		}
		e.components.Schemas = stubs
	}
	saved := make([]*openapi3.SchemaRef, len(e.slots))
	for i, slot := range e.slots {
		saved[i] = *slot
		*slot = stub(*slot)
	}
	return func() {
		if schemas != nil {
			e.components.Schemas = schemas
		}
		for i, slot := range e.slots {
			*slot = saved[i]
		}
	}
}
