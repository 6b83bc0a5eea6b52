package definition

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// loadedAPI is one loaded API with what the cross-check needs to point at lines.
type loadedAPI struct {
	file     string
	api      spec.API
	warnings []Warning
	// failed reports errors in the definition; routable that its base path
	// and resources are still known, so that the cross-check can use them.
	failed, routable bool
	// basePathLine is where the base path came from (0 when defaulted).
	basePathLine int
	// lines and nodes hold the line and key node of each resource's
	// operation, parallel to api.Resources.
	lines []int
	nodes []*yaml.Node
	// etcdLines holds the first line of each etcd(key, default) pair.
	etcdLines map[[2]string]int
	// tiers are the x-wso2-throttling-tier values, checked against the
	// project's policies by Result.CheckTiers.
	tiers []tierUse
	// requestValidation and responseValidation are what the API's
	// validation extensions say.
	requestValidation, responseValidation validationSwitch
}

// parser holds the state of loading one definition.
type parser struct {
	file    string
	opts    Options
	root    *yaml.Node
	swagger bool
	// named are the x-wso2-endpoints entries by name, read on first use
	// (namedEndpoints).
	named    map[string]*spec.Endpoints
	warnings []Warning
	// errs are the errors found so far. Loading goes on past each one that
	// leaves the rest readable, so that one build reports them all.
	errs []*Error
	// etcdLines holds the first line of each etcd(key, default) pair.
	etcdLines map[[2]string]int
	// badPaths are the paths checkPaths refused; they get no resources.
	badPaths map[string]bool
	// pointers maps node positions to JSON pointers, for one-line files.
	pointers map[[2]int]string
	// neutralized are the positions of $refs replaced by an empty object
	// before kin-openapi read the document: what it says about them is noise.
	neutralized map[[2]int]bool
	// keys maps each value node to its key (keyOf), built when needed.
	keys map[*yaml.Node]*yaml.Node
	// edits are the rewrites lenient made to the text kin-openapi read.
	edits []edit
	// sec is what resolving each operation's security needs.
	sec secState
	// tiers are the x-wso2-throttling-tier values read so far.
	tiers []tierUse
	// speculative is the fast load started on the file's text as it came
	// (startSpeculativeLoad), nil when the text cannot take it.
	speculative *speculativeLoad
	// text is the file's text as read, which root was parsed from.
	text []byte
}

// fail returns an error located at node at (nil: the whole file).
func (p *parser) fail(at *yaml.Node, place, msg, hint string) *Error {
	line, col, ptr := p.position(at)
	return &Error{File: p.file, Line: line, col: col, Pointer: ptr, Place: place, Msg: msg, Hint: hint}
}

// warn records a warning located at node at (nil: the whole file).
func (p *parser) warn(at *yaml.Node, format string, args ...any) {
	line, col, ptr := p.position(at)
	p.warnings = append(p.warnings, Warning{File: p.file, Line: line, col: col, Pointer: ptr, Msg: fmt.Sprintf(format, args...)})
}

// collect records err, a *Error or nil, and lets loading go on.
func (p *parser) collect(err error) {
	var de *Error
	if errors.As(err, &de) {
		p.errs = append(p.errs, de)
	} else if err != nil {
		p.errs = append(p.errs, &Error{File: p.file, Msg: err.Error(), Err: err})
	}
}

const hintNotOpenAPI = `an API definition starts with "openapi: 3.0.3" (or 3.1.x), or "swagger: \"2.0\"", followed by info and paths`

// loadBytes loads one definition. It comes back even with errors
// when its routes are known (loadedAPI.routable); the error is then a
// *Diagnostics with every error and warning of the file.
func loadBytes(file, apiFile string, data []byte, opts Options) (*loadedAPI, error) {
	p := &parser{file: file, opts: opts, etcdLines: map[[2]string]int{}, badPaths: map[string]bool{}, neutralized: map[[2]int]bool{}}
	d := p.load(apiFile, data)
	sortWarnings(p.warnings)
	if len(p.errs) == 0 {
		return d, nil
	}
	if d != nil {
		d.failed = true
	}
	return d, &Diagnostics{Errors: p.errs, Warnings: p.warnings}
}

// load runs the steps of loadBytes; it returns nil when a step leaves nothing
// to go on with.
func (p *parser) load(apiFile string, data []byte) *loadedAPI {
	if len(bytes.TrimSpace(data)) == 0 {
		p.collect(p.fail(nil, "", "the file is empty", hintNotOpenAPI))
		return nil
	}
	p.text = data
	p.speculative = startSpeculativeLoad(data)
	defer p.speculative.stop()
	var doc yaml.Node
	if err := unmarshalTree(data, &doc); err != nil {
		p.collect(p.syntaxError(err))
		return nil
	}
	p.root = deref(&doc)
	if p.root == nil || p.root.Kind != yaml.MappingNode {
		got := "empty"
		if p.root != nil {
			got = kindName(p.root)
		}
		p.collect(p.fail(p.root, "", "not an OpenAPI or Swagger definition: the document is "+got+", not an object", hintNotOpenAPI))
		return nil
	}
	if err := p.checkVersion(); err != nil {
		p.collect(err)
		return nil
	}
	if !bytes.Contains(bytes.TrimSpace(data), []byte("\n")) {
		p.pointers = pointerIndex(p.root)
	}
	data = p.lenient(data)
	p.checkPaths()
	doc3, err := p.openapi(data)
	if err != nil {
		p.collect(err)
		return nil
	}
	d := p.model(doc3, apiFile)
	if d != nil && len(p.errs) == 0 {
		// The safety net, for what the loader's own checks missed.
		if err := checkRouteTable([]*loadedAPI{d}); err != nil {
			p.collect(err)
		}
	}
	return d
}

// syntaxError reports a YAML or JSON syntax error with its line.
func (p *parser) syntaxError(err error) error {
	line, msg := 0, err.Error()
	var le *yaml.LoadError
	var les *yaml.LoadErrors
	switch {
	case errors.As(err, &le):
		line, msg = le.Mark.Line, le.Message
	case errors.As(err, &les) && len(les.Errors) > 0:
		line, msg = les.Errors[0].Mark.Line, les.Errors[0].Message
	}
	e := p.fail(lineNode(line), "", "YAML/JSON syntax error: "+msg, "fix the syntax at that line (check indentation, quotes, colons and brackets)")
	e.Err = err
	return e
}

// checkVersion detects the kind of document from its top-level openapi or swagger field.
func (p *parser) checkVersion() error {
	oas, sw := get(p.root, "openapi"), get(p.root, "swagger")
	switch {
	case oas.key != nil && sw.key != nil:
		return p.fail(sw.key, "", "the document has both an openapi and a swagger field", "keep the one that matches the document: openapi for OpenAPI 3, swagger for Swagger 2.0")
	case sw.key != nil:
		if v := sw.val.Value; v != "2.0" {
			return p.fail(sw.key, "", fmt.Sprintf("swagger version %q is not supported", v), `write swagger: "2.0", or use OpenAPI 3.0/3.1`)
		}
		p.swagger = true
	case oas.key != nil:
		v := oas.val.Value
		if !(v == "3.0" || v == "3.1" || strings.HasPrefix(v, "3.0.") || strings.HasPrefix(v, "3.1.")) {
			return p.fail(oas.key, "", fmt.Sprintf("openapi version %q is not supported", v), `write openapi: 3.0.3 or 3.1.0 (or swagger: "2.0" for Swagger)`)
		}
	default:
		return p.fail(nil, "", "not an OpenAPI or Swagger definition: there is no top-level openapi or swagger field", hintNotOpenAPI)
	}
	return nil
}

// fastDocument loads data the fast way (cleanJSONDocument) when the fast
// way reads it as the exact way does, and returns nil when data must be
// loaded the exact way: a problem to report, or a text the fast way does
// not cover. Both ask the file's keys to be plain (plainKeys, on the
// parser's tree). A JSON definition is read as it is: the speculative load
// when data is still the text it started on, else data as lenient and
// collapseRefChains rewrote it (their edits add no key). A YAML definition
// is read as the JSON its tree spells (yamlAsJSON), so only while data is
// still the text the tree was parsed from.
func (p *parser) fastDocument(data []byte) *openapi3.T {
	if isJSONObject(data) {
		if !plainTree(p.root) {
			return nil
		}
		if d, ok := p.speculative.result(data); ok {
			return d
		}
		p.speculative.stop() // started on the text before its rewrite
		return cleanJSONDocument(context.Background(), data)
	}
	if !sameBytes(data, p.text) {
		return nil // rewritten: the tree no longer spells it
	}
	j, ok := yamlAsJSON(p.root)
	if !ok {
		return nil
	}
	return cleanJSONDocument(context.Background(), j)
}

// sameBytes reports whether a and b are the same slice of memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// openapi loads the document with kin-openapi, converting Swagger 2.0 to
// OpenAPI 3, and validates it. A document kin-openapi cannot load is an
// error; what the validation finds does not change routing and is reported
// as warnings (validate.go). External references are refused. A clean JSON
// document is loaded the fast way (cleanJSONDocument).
func (p *parser) openapi(data []byte) (*openapi3.T, error) {
	data = collapseRefChains(p.root, data)
	if !p.swagger {
		if d := p.fastDocument(data); d != nil {
			return d, nil // validated, with nothing to warn about
		}
	}
	var doc *openapi3.T
	if p.swagger {
		var d2 openapi2.T
		if err := openapi2.UnmarshalFromData(data, &d2); err != nil {
			return nil, p.kinError(err, "not a valid Swagger 2.0 document")
		}
		d3, err := openapi2conv.ToV3(&d2)
		if err != nil {
			return nil, p.kinError(err, "cannot convert this Swagger 2.0 document")
		}
		doc = d3
	} else {
		l := openapi3.NewLoader()
		l.IsExternalRefsAllowed = false
		l.IncludeOrigin = true
		var d *openapi3.T
		var err error
		if p.pointers != nil {
			// One line: the faster load would shift the origins that
			// point warnings at JSON paths (see loadOpenAPI).
			d, err = l.LoadFromData(data)
		} else {
			d, err = loadOpenAPI(l, data)
		}
		if err != nil {
			return nil, p.kinError(err, "not a valid OpenAPI document")
		}
		doc = d
	}
	p.validate(doc)
	return doc, nil
}
