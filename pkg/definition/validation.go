package definition

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Request and response validation, as micro-gw 3.x's
// enableRequestValidation and enableResponseValidation offered it. Both are
// off unless the build's settings (Options) or the API's extensions turn
// them on; an extension wins over the setting, so an API can opt out of a
// project-wide "on". For each operation with validation on, the build
// stores the OpenAPI 3 operation (parameters, requestBody, responses) as
// JSON in spec.Resource.Validation and the components it refers to, once
// per API, in spec.API.Validation: data the gateway hands to kin-openapi
// at start. $refs stay references, so recursive schemas need no special
// case here; kin-openapi resolves them, cycles included.
const (
	extRequestValidation  = "x-wso2-request-validation"
	extResponseValidation = "x-wso2-response-validation"
)

// Options are the build's choices that change what LoadDirWith produces.
type Options struct {
	// RequestValidation and ResponseValidation are the request-validation
	// and response-validation settings: validation for every API whose
	// definition does not turn it off.
	RequestValidation, ResponseValidation bool
}

// validationSwitch is what an API's extension says about one side of
// validation; nil on means the extension is absent.
type validationSwitch struct {
	on *bool
	at *yaml.Node
}

// readValidationSwitch returns the API-level reader of one validation
// extension, which stores its value in the switch slot picks.
func readValidationSwitch(slot func(d *loadedAPI) *validationSwitch) func(p *parser, e pair, d *loadedAPI, _ *openapi3.T) error {
	return func(p *parser, e pair, d *loadedAPI, _ *openapi3.T) error {
		v, err := p.boolean(e, apiLevel)
		if err != nil {
			return err
		}
		*slot(d) = validationSwitch{on: &v, at: e.key}
		return nil
	}
}

// effective is the switch's value, or the setting's when the extension is absent.
func (s validationSwitch) effective(setting bool) bool {
	if s.on != nil {
		return *s.on
	}
	return setting
}

// why names what turned validation on, for messages.
func (s validationSwitch) why(ext, setting string) string {
	if s.on != nil {
		return fmt.Sprintf("%s: true at line %d", ext, lineOf(s.at))
	}
	return setting + " = true in conf/gateway.conf"
}

// operationAt is one resource's operation, as kin-openapi read it and as
// the YAML tree holds it, parallel to loadedAPI.api.Resources.
type operationAt struct {
	op   *openapi3.Operation
	item *openapi3.PathItem
	// node and itemNode are the operation's and its path item's values.
	node, itemNode *yaml.Node
	place          string
}

// validation fills in the validation data of d's resources whose API has
// request or response validation on. A $ref to a missing schema, only a
// warning otherwise, is an error in the parts validation reads: the
// gateway cannot check a value against a schema that does not exist.
func (p *parser) validation(d *loadedAPI, doc *openapi3.T, ops []operationAt) {
	req := d.requestValidation.effective(p.opts.RequestValidation)
	resp := d.responseValidation.effective(p.opts.ResponseValidation)
	if !req && !resp || len(ops) == 0 {
		return
	}
	c := &componentSet{doc: doc, out: map[string]map[string]json.RawMessage{}, seen: map[string]bool{}}
	for i, o := range ops {
		p.missingSchemas(o, req, resp, d)
		data, err := c.operation(o.op, o.item, req, resp)
		if err != nil {
			p.collect(p.fail(d.nodes[i], o.place, "cannot encode the operation for validation: "+err.Error(), "report this as a micro-gw bug, with the definition"))
			continue
		}
		d.api.Resources[i].Validation = &spec.Validation{Request: req, Response: resp, Operation: data}
	}
	if err := c.close(); err != nil {
		p.collect(p.fail(nil, apiLevel, "cannot encode the components for validation: "+err.Error(), "report this as a micro-gw bug, with the definition"))
		return
	}
	version := doc.OpenAPI
	if p.swagger || version == "" {
		version = "3.0.3" // what openapi2conv converts to
	}
	d.api.Validation = &spec.APIValidation{OpenAPI: version, Components: c.components}
}

// missingSchemas reports, as errors, the $refs to schemas that do not
// exist in the parts of operation o that validation reads: parameters and
// the request body for requests, responses for responses, following the
// references that do resolve (once each, so cycles end).
func (p *parser) missingSchemas(o operationAt, req, resp bool, d *loadedAPI) {
	var roots []*yaml.Node
	if req {
		roots = append(roots, get(o.itemNode, "parameters").val, get(o.node, "parameters").val, get(o.node, "requestBody").val)
	}
	if resp {
		roots = append(roots, get(o.node, "responses").val)
	}
	visited := map[string]bool{}
	idx := keyIndex{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		walkRefs(n, false, func(_, key, val *yaml.Node) {
			ref := val.Value
			if visited[ref] || !strings.HasPrefix(ref, "#") {
				return // seen, or another file (an error already)
			}
			visited[ref] = true
			if _, target, ok := followPointer(p.root, ref, idx.get); ok {
				walk(target)
				return
			}
			if refKind(ref) != "schema" {
				return // an error already (checkRefs)
			}
			side, ext, setting := "request", extRequestValidation, "request-validation"
			sw := d.requestValidation
			if !req {
				side, ext, setting, sw = "response", extResponseValidation, "response-validation", d.responseValidation
			}
			err := p.fail(key, o.place, fmt.Sprintf("$ref %q does not resolve: there is no such schema, and %s validation is on for this operation (%s)", ref, side, sw.why(ext, setting)),
				"define the schema, correct the reference, or turn validation off for this API ("+ext+": false)")
			p.collect(err)
			p.dropMissingSchemaWarning(err.Line, ref)
		})
	}
	for _, n := range roots {
		walk(n)
	}
}

// componentSet gathers, once per API, the components the validated
// operations refer to, transitively.
type componentSet struct {
	doc *openapi3.T
	// out holds the encoded components: kind ("schemas") to name to JSON.
	out  map[string]map[string]json.RawMessage
	seen map[string]bool
	// queue holds references still to encode.
	queue      []string
	components json.RawMessage
}

// operation encodes the parts of op that validation reads: the path
// item's parameters merged with the operation's (which override them, by
// place and name), the request body when req, the responses when resp.
// Security, callbacks and the rest stay out: the gateway checks security
// itself.
func (c *componentSet) operation(op *openapi3.Operation, item *openapi3.PathItem, req, resp bool) (json.RawMessage, error) {
	out := &openapi3.Operation{}
	if req {
		for _, ref := range item.Parameters {
			if ref.Value == nil || op.Parameters.GetByInAndName(ref.Value.In, ref.Value.Name) == nil {
				out.Parameters = append(out.Parameters, ref)
			}
		}
		out.Parameters = append(out.Parameters, op.Parameters...)
		out.RequestBody = op.RequestBody
	}
	if resp {
		out.Responses = op.Responses
	}
	return c.encode(out)
}

// encode marshals v, drops the origin positions kin-openapi keeps, and
// queues the components it refers to.
func (c *componentSet) encode(v any) (json.RawMessage, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return nil, err
	}
	tree = c.scan(tree)
	return json.Marshal(tree)
}

// scan walks a decoded JSON value: it removes "__origin__" (kin-openapi's
// source positions, meaningless to the gateway) and queues each local
// component reference.
func (c *componentSet) scan(v any) any {
	switch t := v.(type) {
	case map[string]any:
		delete(t, "__origin__")
		for k, e := range t {
			if s, ok := e.(string); ok && k == "$ref" {
				if !c.seen[s] {
					c.seen[s] = true
					c.queue = append(c.queue, s)
				}
				continue
			}
			t[k] = c.scan(e)
		}
	case []any:
		for i, e := range t {
			t[i] = c.scan(e)
		}
	}
	return v
}

// close encodes every queued component, and those they refer to, into
// c.components.
func (c *componentSet) close() error {
	for len(c.queue) > 0 {
		ref := c.queue[0]
		c.queue = c.queue[1:]
		kind, name, v := c.lookup(ref)
		if v == nil {
			continue // not a component: left as written, kin-openapi reports it at start
		}
		data, err := c.encode(v)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		if c.out[kind] == nil {
			c.out[kind] = map[string]json.RawMessage{}
		}
		c.out[kind][name] = data
	}
	if len(c.out) == 0 {
		return nil
	}
	data, err := json.Marshal(c.out) // maps encode sorted: stable output
	c.components = data
	return err
}

// lookup returns the component a "#/components/<kind>/<name>" reference
// names, or a nil value.
func (c *componentSet) lookup(ref string) (kind, name string, v any) {
	rest, ok := strings.CutPrefix(ref, "#/components/")
	if !ok || c.doc.Components == nil {
		return "", "", nil
	}
	kind, name, ok = strings.Cut(rest, "/")
	if !ok || strings.Contains(name, "/") {
		return "", "", nil
	}
	name = strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")
	cs := c.doc.Components
	switch kind {
	case "schemas":
		if r := cs.Schemas[name]; r != nil {
			v = r
		}
	case "parameters":
		if r := cs.Parameters[name]; r != nil {
			v = r
		}
	case "requestBodies":
		if r := cs.RequestBodies[name]; r != nil {
			v = r
		}
	case "responses":
		if r := cs.Responses[name]; r != nil {
			v = r
		}
	case "headers":
		if r := cs.Headers[name]; r != nil {
			v = r
		}
	case "examples":
		if r := cs.Examples[name]; r != nil {
			v = r
		}
	case "links":
		if r := cs.Links[name]; r != nil {
			v = r
		}
	}
	return kind, name, v
}

// dropMissingSchemaWarning removes lenient's warning about the missing
// schema ref at line, which an error now reports.
func (p *parser) dropMissingSchemaWarning(line int, ref string) {
	prefix := fmt.Sprintf("$ref %q does not resolve: there is no such schema;", ref)
	p.warnings = slices.DeleteFunc(p.warnings, func(w Warning) bool {
		return w.Line == line && strings.HasPrefix(w.Msg, prefix)
	})
}
