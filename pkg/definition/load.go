package definition

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/router"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Result is what LoadDir found in a project's api_definitions/.
type Result struct {
	// APIs are in file name order; each API's Resources are sorted by path, then method.
	APIs     []spec.API
	Warnings []Warning
	// Resources counts the resources of all APIs.
	Resources int
}

// definitionExts are the file name endings LoadDir reads.
var definitionExts = []string{".yaml", ".yml", ".json"}

// methods are the HTTP methods a resource may have, in the order resources are sorted.
var methods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}

// LoadDir reads every *.yaml, *.yml and *.json file in dir (a project's
// api_definitions/), in name order, and cross-checks them: no two APIs may
// share a base path or a route. Files whose names start with "." are skipped.
// When a definition cannot be built the error is a *Diagnostics holding
// every error and warning of every file.
func LoadDir(dir string) (*Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the API definitions folder: %w", err)
	}
	shown := filepath.Base(dir)
	var names, others []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if !isDefinitionFile(name) || e.IsDir() {
			if !e.IsDir() {
				others = append(others, name)
			}
			continue
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		msg := "no API definitions found (files ending in .yaml, .yml or .json)"
		if len(others) > 0 {
			msg += "; ignored: " + strings.Join(others, ", ")
		}
		return nil, &DefinitionError{
			File: shown + "/",
			Msg:  msg,
			Hint: "add an OpenAPI 3 or Swagger 2.0 definition there (micro-gw init -a <file|URL> copies one in)",
		}
	}

	var defs []*definition
	diag := &Diagnostics{}
	for _, name := range names {
		file := path.Join(shown, name)
		d, err := loadFile(filepath.Join(dir, name), file)
		diag.add(file, err)
		if d != nil && d.routable {
			// A definition with errors elsewhere still takes part in the
			// cross-check, so that its conflicts are reported in this round.
			defs = append(defs, d)
		}
	}
	if cc := crossCheck(defs); cc != nil {
		diag.add("", cc)
	} else if len(diag.Errors) == 0 {
		if err := checkRouteTable(defs); err != nil {
			// The safety net: what the loader's own checks missed.
			diag.add("", err)
		}
	}
	res := &Result{}
	for _, d := range defs {
		if d.failed {
			continue
		}
		res.APIs = append(res.APIs, d.api)
		diag.Warnings = append(diag.Warnings, d.warnings...)
		res.Resources += len(d.api.Resources)
	}
	diag.Warnings = append(diag.Warnings, etcdDefaultConflicts(defs)...)
	if len(diag.Errors) > 0 {
		return nil, diag
	}
	sortWarnings(diag.Warnings)
	res.Warnings = diag.Warnings
	return res, nil
}

func isDefinitionFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range definitionExts {
		if ext == e {
			return true
		}
	}
	return false
}

// LoadFile reads and checks one definition file; errors name it as path.
func LoadFile(path string) (*spec.API, []Warning, error) {
	d, err := loadFile(path, path)
	if err != nil {
		return nil, nil, err
	}
	return &d.api, d.warnings, nil
}

// ParseDefinition checks one definition held in memory; name (a file name
// or a URL) is used in messages and, by its last element, as the API's File.
func ParseDefinition(name string, data []byte) (*spec.API, []Warning, error) {
	d, err := parse(name, path.Base(name), data)
	if err != nil {
		return nil, nil, err
	}
	return &d.api, d.warnings, nil
}

func loadFile(file, shown string) (*definition, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		cause := err
		var pe *os.PathError
		if errors.As(err, &pe) {
			cause = pe.Err
		}
		return nil, &Diagnostics{Errors: []*DefinitionError{{
			File: shown,
			Msg:  "cannot read the file: " + cause.Error(),
			Hint: "check that it exists and that you may read it",
			Err:  err,
		}}}
	}
	return parse(shown, filepath.Base(file), data)
}

// definition is one loaded API with what the cross-check needs to point at lines.
type definition struct {
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
}

// parser holds the state of loading one definition.
type parser struct {
	file    string
	root    *yaml.Node
	swagger bool
	// named are the x-wso2-endpoints entries by name.
	named    map[string]*spec.Endpoints
	warnings []Warning
	// errs are the errors found so far. Loading goes on past each one that
	// leaves the rest readable, so that one build reports them all.
	errs []*DefinitionError
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
}

// fail returns an error located at node at (nil: the whole file).
func (p *parser) fail(at *yaml.Node, place, msg, hint string) *DefinitionError {
	line, col, ptr := p.position(at)
	return &DefinitionError{File: p.file, Line: line, col: col, Pointer: ptr, Place: place, Msg: msg, Hint: hint}
}

// warn records a warning located at node at (nil: the whole file).
func (p *parser) warn(at *yaml.Node, format string, args ...any) {
	line, col, ptr := p.position(at)
	p.warnings = append(p.warnings, Warning{File: p.file, Line: line, col: col, Pointer: ptr, Msg: fmt.Sprintf(format, args...)})
}

// collect records err, a *DefinitionError or nil, and lets loading go on.
func (p *parser) collect(err error) {
	var de *DefinitionError
	if errors.As(err, &de) {
		p.errs = append(p.errs, de)
	} else if err != nil {
		p.errs = append(p.errs, &DefinitionError{File: p.file, Msg: err.Error(), Err: err})
	}
}

const hintNotOpenAPI = `an API definition starts with "openapi: 3.0.3" (or 3.1.x), or "swagger: \"2.0\"", followed by info and paths`

// parse loads one definition. The definition comes back even with errors
// when its routes are known (definition.routable); the error is then a
// *Diagnostics with every error and warning of the file.
func parse(file, apiFile string, data []byte) (*definition, error) {
	p := &parser{file: file, etcdLines: map[[2]string]int{}, badPaths: map[string]bool{}, neutralized: map[[2]int]bool{}}
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

// load runs the steps of parse; it returns nil when a step leaves nothing
// to go on with.
func (p *parser) load(apiFile string, data []byte) *definition {
	if len(bytes.TrimSpace(data)) == 0 {
		p.collect(p.fail(nil, "", "the file is empty", hintNotOpenAPI))
		return nil
	}
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
	d := p.build(doc3, apiFile)
	if d != nil && len(p.errs) == 0 {
		// The safety net, for what the loader's own checks missed.
		if err := checkRouteTable([]*definition{d}); err != nil {
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

// openapi loads the document with kin-openapi, converting Swagger 2.0 to
// OpenAPI 3, and validates it. A document kin-openapi cannot load is an
// error; what the validation finds does not change routing and is reported
// as warnings (validate.go). External references are refused.
func (p *parser) openapi(data []byte) (*openapi3.T, error) {
	data = collapseRefChains(p.root, data)
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

// kinError turns a kin-openapi load error into a DefinitionError with the
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

// showPath returns p as written, or quoted when it holds characters that
// would garble a message.
func showPath(p string) string {
	for _, r := range p {
		if !unicode.IsPrint(r) {
			return strconv.Quote(p)
		}
	}
	return p
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

// build turns a validated document into the route model. Each part that
// fails is recorded and the others are still read.
func (p *parser) build(doc *openapi3.T, apiFile string) *definition {
	d := &definition{file: p.file, api: spec.API{File: apiFile}}
	if doc.Info != nil {
		d.api.Title, d.api.Version = doc.Info.Title, doc.Info.Version
	}
	p.scanExtensions()
	p.scanSecurity()
	p.scanUnsupportedFields()
	p.namedEndpoints()
	bp, line, err := p.basePath(doc)
	p.collect(err)
	d.api.BasePath, d.basePathLine, d.routable = bp, line, err == nil

	const apiLevel = "API level"
	d.api.Production, err = p.endpointsAt(p.root, extProduction, apiLevel)
	p.collect(err)
	d.api.Sandbox, err = p.endpointsAt(p.root, extSandbox, apiLevel)
	p.collect(err)
	d.api.CORS, err = p.cors()
	p.collect(err)
	d.api.Transports, err = p.transports()
	p.collect(err)

	// x-wso2-production-endpoints anywhere means the user chose the
	// endpoints: the document's servers are then not used for any operation.
	apiExt := get(p.root, extProduction).key != nil
	anyExt := apiExt
	servers := &serverUse{apiExt: apiExt}
	sandboxLine := get(p.root, extSandbox).key
	pathItems := index(get(p.root, "paths").val)
	keys := []string{}
	if doc.Paths != nil {
		for k := range doc.Paths.Map() {
			if !p.badPaths[k] {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	ownExt := map[int]bool{} // resources with their own x-wso2-production-endpoints
	for _, pathKey := range keys {
		item := doc.Paths.Value(pathKey)
		itemNode := p.followRef(pathItems[pathKey].val)
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			opEntry := get(itemNode, strings.ToLower(m))
			place := m + " " + showPath(pathKey)
			r := spec.Resource{Path: pathKey, Method: m, OperationID: op.OperationID}
			r.Production, err = p.endpointsAt(opEntry.val, extProduction, place)
			p.collect(err)
			r.Sandbox, err = p.endpointsAt(opEntry.val, extSandbox, place)
			p.collect(err)
			if get(opEntry.val, extProduction).key != nil {
				anyExt = true
				ownExt[len(d.api.Resources)] = true
			} else {
				r.Production = p.operationServers(servers, op, item, opEntry.val, itemNode, place)
			}
			if r.Sandbox != nil && sandboxLine == nil {
				sandboxLine = get(opEntry.val, extSandbox).key
			}
			d.api.Resources = append(d.api.Resources, r)
			d.lines = append(d.lines, lineOf(opEntry.key))
			d.nodes = append(d.nodes, opEntry.key)
		}
	}
	if len(d.api.Resources) == 0 {
		p.warn(get(p.root, "paths").key, "the API has no operations, so the gateway serves nothing for it")
	}
	p.ambiguousPaths(keys, itemMethods(doc, keys))
	p.duplicateRoutes(d)
	servers.warnIgnored(p)

	if !anyExt {
		d.api.Production = p.documentServers(doc)
	}
	p.checkProduction(d, anyExt, ownExt)
	if sandboxLine != nil {
		p.warn(sandboxLine, "sandbox endpoints are checked and their etcd keys resolved, but requests reach only the production endpoints until authentication exists")
	}
	d.warnings = p.warnings
	d.etcdLines = p.etcdLines
	return d
}

// checkProduction refuses operations no production endpoint serves: each
// one, or only the first when none has one (the API has no endpoint at
// all). An operation whose own endpoint extension failed was reported then.
func (p *parser) checkProduction(d *definition, anyExt bool, ownExt map[int]bool) {
	if d.api.Production != nil || get(p.root, extProduction).key != nil {
		return // served, or the API-level extension failed and was reported
	}
	var missing []int
	for i, r := range d.api.Resources {
		if r.Production == nil && !ownExt[i] {
			missing = append(missing, i)
		}
	}
	hint := "add x-wso2-production-endpoints to this operation or at API level"
	if !anyExt {
		hint += ", or an absolute http(s) URL under servers"
	}
	if len(missing) == len(d.api.Resources) && len(missing) > 1 {
		i := missing[0]
		r := d.api.Resources[i]
		p.collect(p.fail(d.nodes[i], r.Method+" "+r.Path, fmt.Sprintf("no production endpoint serves this operation, nor the other %d of the API", len(missing)-1),
			strings.Replace(hint, "to this operation or at API level", "at API level (or to each operation)", 1)))
		return
	}
	for _, i := range missing {
		r := d.api.Resources[i]
		p.collect(p.fail(d.nodes[i], r.Method+" "+r.Path, "no production endpoint serves this operation", hint))
	}
}

// checkPaths refuses every path template that cannot be routed, before the
// validator gives a less precise error about them; the others are still built.
func (p *parser) checkPaths() {
	for _, e := range pairs(get(p.root, "paths").val) {
		if strings.HasPrefix(e.key.Value, "x-") {
			continue
		}
		if msg, hint := checkPath(e.key.Value, true); msg != "" {
			p.badPaths[e.key.Value] = true
			p.collect(p.fail(e.key, "path "+showPath(e.key.Value), msg, hint))
		}
	}
}

// followRef resolves a local "$ref": "#/..." of a path item in the raw tree.
func (p *parser) followRef(n *yaml.Node) *yaml.Node {
	ref := get(n, "$ref").val
	if ref == nil || !strings.HasPrefix(ref.Value, "#/") {
		return n
	}
	cur := p.root
	for _, tok := range strings.Split(ref.Value[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if cur = get(cur, tok).val; cur == nil {
			return n
		}
	}
	return cur
}

// basePath works out the API's base path and the line it came from.
func (p *parser) basePath(doc *openapi3.T) (string, int, error) {
	const place = "API level"
	if e := get(p.root, extBasePath); e.key != nil {
		if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!str" {
			return "", 0, p.fail(e.key, place, extBasePath+" must be a string, got "+kindName(e.val), "write e.g. x-wso2-basePath: /petstore/{version}")
		}
		version := ""
		if doc.Info != nil {
			version = doc.Info.Version
		}
		bp := normalizeBasePath(strings.ReplaceAll(e.val.Value, "{version}", version))
		if msg, hint := checkPath(bp, false); msg != "" {
			return "", 0, p.fail(e.key, place, fmt.Sprintf("%s %q (base path %q) %s", extBasePath, e.val.Value, bp, msg), hint)
		}
		return bp, e.key.Line, nil
	}
	var raw string
	var at *yaml.Node
	if p.swagger {
		if e := get(p.root, "basePath"); e.key != nil && e.val.Kind == yaml.ScalarNode {
			raw, at = e.val.Value, e.key
		}
	} else if len(doc.Servers) > 0 {
		if u, err := url.Parse(expandServer(doc.Servers[0])); err == nil {
			raw, at = u.Path, lookup(p.root, "servers")
		}
	}
	if raw == "" {
		p.warn(nil, "no %s, and no path in servers[0] (basePath in Swagger 2.0): the API is served at /", extBasePath)
		return "/", 0, nil
	}
	bp := normalizeBasePath(raw)
	if msg, hint := checkPath(bp, false); msg != "" {
		return "", 0, p.fail(at, place, fmt.Sprintf("base path %q %s", bp, msg), hint)
	}
	return bp, lineOf(at), nil
}

// normalizeBasePath gives a base path one leading "/" and no trailing one.
func normalizeBasePath(s string) string {
	s = strings.TrimRight(s, "/")
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	return s
}

// checkPath reports why p cannot be routed, as a message and a hint, or ""
// when it can. Resource paths may hold {param} templates, base paths may not.
func checkPath(p string, templates bool) (msg, hint string) {
	const hintChars = "a path holds no spaces, control characters, ? or #"
	if !strings.HasPrefix(p, "/") {
		return "does not start with /", "write the path from its leading /, e.g. /pet/{petId}"
	}
	if !utf8.ValidString(p) {
		return "is not valid UTF-8", hintChars
	}
	open := -1
	for i, r := range p {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Sprintf("contains the control character %q", r), hintChars
		case r == ' ':
			return "contains a space", hintChars
		case r == '?' || r == '#':
			return fmt.Sprintf("contains %q", r), hintChars + "; query parameters are declared as parameters, not in the path"
		case (r == '{' || r == '}') && !templates:
			return "contains { or }", "a base path is fixed text; only {version} is replaced (by info.version)"
		case r == '{':
			if open >= 0 {
				return "has a { inside another {...}", "write each path parameter once as {name}, e.g. /pet/{petId}"
			}
			if i > 0 && p[i-1] == '}' {
				// The router could not tell where one value ends and the next begins.
				return "has two parameters with nothing between them", "put fixed text between them, e.g. " + adjacentExample(p, i) + ", or make them one parameter"
			}
			open = i
		case r == '}':
			if open < 0 {
				return "has a } without its {", "write each path parameter as {name}, e.g. /pet/{petId}"
			}
			if i == open+1 {
				return "has an empty {}", "name the path parameter, e.g. /pet/{petId}"
			}
			open = -1
		case r == '/' && open >= 0:
			return "has a { without its }", "write each path parameter as {name}, e.g. /pet/{petId}"
		}
	}
	if open >= 0 {
		return "has a { without its }", "write each path parameter as {name}, e.g. /pet/{petId}"
	}
	if templates {
		// The gateway's router has the last word: what it refuses here
		// would make the compiled gateway fail at start.
		if _, err := router.New([]router.Entry[struct{}]{{Path: p, Method: "GET"}}); err != nil {
			_, why, _ := strings.Cut(err.Error(), ": ")
			return "cannot be routed: " + why, "put literal text between two parameters of a segment, e.g. /files/{name}.{ext}"
		}
	}
	return "", ""
}

// adjacentExample rewrites the segment of p around the "{" at i, which
// follows a "}", with a "-" between the two parameters: /x/{a}{b} gives
// /x/{a}-{b}.
func adjacentExample(p string, i int) string {
	start := strings.LastIndexByte(p[:i], '/') + 1
	end := strings.IndexByte(p[i:], '/')
	if end < 0 {
		end = len(p)
	} else {
		end += i
	}
	return p[:start] + strings.ReplaceAll(p[start:end], "}{", "}-{") + p[end:]
}

// expandServer substitutes a server's variables with their defaults.
func expandServer(s *openapi3.Server) string {
	u := s.URL
	for name, v := range s.Variables {
		if v != nil {
			u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
		}
	}
	return u
}

// serverEndpoints turns the absolute http(s) servers into production
// endpoints; skipped lists the URLs that are not absolute http(s) URLs.
func serverEndpoints(servers openapi3.Servers) (eps *spec.Endpoints, skipped []string) {
	var urls []spec.EndpointURL
	seen := map[string]bool{}
	for _, s := range servers {
		if s == nil {
			continue
		}
		t, err := endpoint.Parse(expandServer(s))
		if err != nil {
			skipped = append(skipped, s.URL)
			continue
		}
		if seen[t.Raw] {
			continue
		}
		seen[t.Raw] = true
		urls = append(urls, spec.EndpointURL{URL: t.Raw})
	}
	switch len(urls) {
	case 0:
		return nil, skipped
	case 1:
		return &spec.Endpoints{Type: spec.TypeHTTP, URLs: urls}, skipped
	}
	return &spec.Endpoints{Type: spec.TypeLoadBalance, URLs: urls}, skipped
}

// routeKey is a route with its path parameter names blanked, so that
// /pet/{id} and /pet/{petId} compare equal, as the gateway's router treats
// them.
func routeKey(basePath, p, method string) string {
	full := fullPath(basePath, p)
	var b strings.Builder
	skip := false
	for _, r := range full {
		switch {
		case r == '{':
			skip = true
			b.WriteString("{}")
		case r == '}':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return method + " " + b.String()
}

// fullPath is the template the gateway routes for resource path p under
// basePath, joined as the runtime joins them (proxy's joinPath): the
// resource "/" under "/shop" is "/shop", not "/shop/".
func fullPath(basePath, p string) string {
	switch {
	case basePath == "/":
		return p
	case p == "/":
		return basePath
	}
	return basePath + p
}

// crossCheck refuses two APIs with one base path, and two resources with one route.
func crossCheck(defs []*definition) *Diagnostics {
	var errs []*DefinitionError
	type origin struct {
		d *definition
		i int
	}
	bases := map[string]*definition{}
	routes := map[string]origin{}
	for _, d := range defs {
		if prev, ok := bases[d.api.BasePath]; ok {
			errs = append(errs, &DefinitionError{
				File: d.file, Line: d.basePathLine, Place: "API level",
				Msg:  fmt.Sprintf("base path %q is also the base path of %s", d.api.BasePath, prev.file),
				Hint: "give each API its own x-wso2-basePath",
			})
			continue
		}
		bases[d.api.BasePath] = d
		for i, r := range d.api.Resources {
			k := routeKey(d.api.BasePath, r.Path, r.Method)
			prev, ok := routes[k]
			if !ok {
				routes[k] = origin{d, i}
				continue
			}
			if prev.d == d {
				continue // reported by duplicateRoutes
			}
			pr := prev.d.api.Resources[prev.i]
			where := prev.d.file
			if pl := prev.d.lines[prev.i]; pl > 0 {
				where += fmt.Sprintf(" (line %d)", pl)
			}
			errs = append(errs, &DefinitionError{
				File: d.file, Line: d.lines[i], Place: r.Method + " " + r.Path,
				Msg:  fmt.Sprintf("route %s %s is also served by %s %s in %s", r.Method, fullPath(d.api.BasePath, r.Path), pr.Method, fullPath(prev.d.api.BasePath, pr.Path), where),
				Hint: "each method and path may be served once: remove one, or change a base path",
			})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &Diagnostics{Errors: errs}
}

// etcdDefaultConflicts warns about an etcd key declared with different
// default URLs: the gateway uses the first one (spec.Gateway.EtcdDefaults),
// in the order APIs, API level before operations, production before sandbox.
func etcdDefaultConflicts(defs []*definition) []Warning {
	type first struct {
		def, file string
		line      int
	}
	seen := map[string]first{}
	warned := map[[2]string]bool{}
	var ws []Warning
	for _, d := range defs {
		visit := func(e *spec.Endpoints) {
			if e == nil {
				return
			}
			for _, u := range e.URLs {
				if u.EtcdKey == "" {
					continue
				}
				line := d.etcdLines[[2]string{u.EtcdKey, u.URL}]
				f, ok := seen[u.EtcdKey]
				switch {
				case !ok:
					seen[u.EtcdKey] = first{u.URL, d.file, line}
				case f.def != u.URL && !warned[[2]string{u.EtcdKey, u.URL}]:
					warned[[2]string{u.EtcdKey, u.URL}] = true
					ws = append(ws, Warning{File: d.file, Line: line, Msg: fmt.Sprintf(
						"etcd key %q has the default %s here but %s in %s:%d; while etcd holds no value for it, every place uses the first, %s",
						u.EtcdKey, u.URL, f.def, f.file, f.line, f.def)})
				}
			}
		}
		visit(d.api.Production)
		visit(d.api.Sandbox)
		for _, r := range d.api.Resources {
			visit(r.Production)
			visit(r.Sandbox)
		}
	}
	return ws
}
