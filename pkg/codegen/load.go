package codegen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/runtime/endpoint"
	"github.com/micro-gw/micro-gw/pkg/runtime/spec"
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
// The error names every file that has a problem (the first problem of each).
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
	var errs []error
	for _, name := range names {
		d, err := loadFile(filepath.Join(dir, name), path.Join(shown, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		defs = append(defs, d)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := crossCheck(defs); err != nil {
		return nil, err
	}
	res := &Result{}
	for _, d := range defs {
		res.APIs = append(res.APIs, d.api)
		res.Warnings = append(res.Warnings, d.warnings...)
		res.Resources += len(d.api.Resources)
	}
	res.Warnings = append(res.Warnings, etcdDefaultConflicts(defs)...)
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
		return nil, &DefinitionError{
			File: shown,
			Msg:  "cannot read the file: " + cause.Error(),
			Hint: "check that it exists and that you may read it",
			Err:  err,
		}
	}
	return parse(shown, filepath.Base(file), data)
}

// definition is one loaded API with what the cross-check needs to point at lines.
type definition struct {
	file     string
	api      spec.API
	warnings []Warning
	// basePathLine is where the base path came from (0 when defaulted).
	basePathLine int
	// lines holds the line of each resource's operation, parallel to api.Resources.
	lines []int
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
	// etcdLines holds the first line of each etcd(key, default) pair.
	etcdLines map[[2]string]int
}

func (p *parser) fail(line int, place, msg, hint string) *DefinitionError {
	return &DefinitionError{File: p.file, Line: line, Place: place, Msg: msg, Hint: hint}
}

func (p *parser) warn(line int, format string, args ...any) {
	p.warnings = append(p.warnings, Warning{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

const hintNotOpenAPI = `an API definition starts with "openapi: 3.0.3" (or 3.1.x), or "swagger: \"2.0\"", followed by info and paths`

func parse(file, apiFile string, data []byte) (*definition, error) {
	p := &parser{file: file, etcdLines: map[[2]string]int{}}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, p.fail(0, "", "the file is empty", hintNotOpenAPI)
	}
	var doc yaml.Node
	if err := unmarshalTree(data, &doc); err != nil {
		return nil, p.syntaxError(err)
	}
	p.root = deref(&doc)
	if p.root == nil || p.root.Kind != yaml.MappingNode {
		got := "empty"
		if p.root != nil {
			got = kindName(p.root)
		}
		return nil, p.fail(lineOf(p.root), "", "not an OpenAPI or Swagger definition: the document is "+got+", not an object", hintNotOpenAPI)
	}
	if err := p.checkVersion(); err != nil {
		return nil, err
	}
	if err := p.checkPaths(); err != nil {
		return nil, err
	}
	doc3, err := p.openapi(data)
	if err != nil {
		return nil, err
	}
	return p.build(doc3, apiFile)
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
	e := p.fail(line, "", "YAML/JSON syntax error: "+msg, "fix the syntax at that line (check indentation, quotes, colons and brackets)")
	e.Err = err
	return e
}

// checkVersion detects the kind of document from its top-level openapi or swagger field.
func (p *parser) checkVersion() error {
	oas, sw := get(p.root, "openapi"), get(p.root, "swagger")
	switch {
	case oas.key != nil && sw.key != nil:
		return p.fail(sw.key.Line, "", "the document has both an openapi and a swagger field", "keep the one that matches the document: openapi for OpenAPI 3, swagger for Swagger 2.0")
	case sw.key != nil:
		if v := sw.val.Value; v != "2.0" {
			return p.fail(sw.key.Line, "", fmt.Sprintf("swagger version %q is not supported", v), `write swagger: "2.0", or use OpenAPI 3.0/3.1`)
		}
		p.swagger = true
	case oas.key != nil:
		v := oas.val.Value
		if !(v == "3.0" || v == "3.1" || strings.HasPrefix(v, "3.0.") || strings.HasPrefix(v, "3.1.")) {
			return p.fail(oas.key.Line, "", fmt.Sprintf("openapi version %q is not supported", v), `write openapi: 3.0.3 or 3.1.0 (or swagger: "2.0" for Swagger)`)
		}
	default:
		return p.fail(0, "", "not an OpenAPI or Swagger definition: there is no top-level openapi or swagger field", hintNotOpenAPI)
	}
	return nil
}

// openapi loads and validates the document with kin-openapi, converting
// Swagger 2.0 to OpenAPI 3. External references are refused.
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
		d, err := loadOpenAPI(l, data)
		if err != nil {
			return nil, p.kinError(err, "not a valid OpenAPI document")
		}
		doc = d
	}
	if err := validateDoc(context.Background(), doc); err != nil {
		return nil, p.kinError(err, "invalid definition")
	}
	return doc, nil
}

// kinError turns a kin-openapi load or validation error into a DefinitionError
// with the line and place the error chain allows to find.
func (p *parser) kinError(err error, what string) error {
	std := "the OpenAPI 3.0/3.1 specification"
	if p.swagger {
		std = "the Swagger 2.0 specification"
	}
	e := p.fail(0, "", what+": "+err.Error(), "correct it so that it follows "+std)
	e.Err = err

	var les *yaml.LoadErrors
	var le *yaml.LoadError
	var sec *openapi3.SectionValidationError
	var pth *openapi3.PathValidationError
	var op *openapi3.OperationValidationError
	var pp *openapi3.PathParametersError
	var comp *openapi3.ComponentValidationError
	var dre *openapi3.DisallowedExternalRefError
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
		e.Place = strings.TrimSpace(strings.ToUpper(method) + " " + showPath(pathKey))
	}
	if errors.As(err, &dre) {
		e.Hint = "references must point inside the same file (#/...); copy the referenced part in"
		e.Line = findRef(p.root, dre.Ref)
	}

	switch line := originLine(err); {
	case e.Line > 0:
	case line > 0:
		e.Line = line
	case errors.As(err, &les) && len(les.Errors) > 0:
		e.Line = les.Errors[0].Mark.Line
	case errors.As(err, &le):
		e.Line = le.Mark.Line
	case pathKey != "":
		item := lookup(p.root, "paths", pathKey)
		if opNode := get(item, strings.ToLower(method)).key; method != "" && opNode != nil {
			e.Line = opNode.Line
		} else {
			e.Line = lineOf(get(get(p.root, "paths").val, pathKey).key)
		}
	case errors.As(err, &comp):
		e.Line = lineOf(p.componentKey(comp.Section, comp.Name))
	case errors.As(err, &sec):
		e.Line = lineOf(get(p.root, sec.Section).key)
	}
	return e
}

// findRef returns the line of the first "$ref": ref in the tree, or 0.
func findRef(n *yaml.Node, ref string) int {
	n = deref(n)
	if n == nil {
		return 0
	}
	if n.Kind == yaml.MappingNode {
		if r := get(n, "$ref"); r.val != nil && r.val.Value == ref {
			return r.key.Line
		}
	}
	for _, c := range n.Content {
		if c.Kind != yaml.AliasNode {
			if line := findRef(c, ref); line > 0 {
				return line
			}
		}
	}
	return 0
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

// originLine returns the line of the innermost error in the chain that carries
// a kin-openapi Origin (set because the loader runs with IncludeOrigin).
func originLine(err error) int {
	line := 0
	walkErrors(err, func(e error) {
		var o *openapi3.Origin
		switch x := e.(type) {
		case *openapi3.RequiredFieldError:
			o = x.Origin
		case *openapi3.SchemaValueError:
			o = x.Origin
		case *openapi3.PathParametersError:
			o = x.Origin
		case *openapi3.ServerURLTemplateError:
			o = x.Origin
		}
		if o != nil && o.Key != nil && o.Key.Line > 0 {
			line = o.Key.Line
		}
	})
	return line
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

// build turns a validated document into the route model.
func (p *parser) build(doc *openapi3.T, apiFile string) (*definition, error) {
	d := &definition{file: p.file, api: spec.API{File: apiFile}}
	if doc.Info != nil {
		d.api.Title, d.api.Version = doc.Info.Title, doc.Info.Version
	}
	p.scanExtensions()
	if err := p.namedEndpoints(); err != nil {
		return nil, err
	}
	bp, line, err := p.basePath(doc)
	if err != nil {
		return nil, err
	}
	d.api.BasePath, d.basePathLine = bp, line

	const apiLevel = "API level"
	if d.api.Production, err = p.endpointsAt(p.root, extProduction, apiLevel); err != nil {
		return nil, err
	}
	if d.api.Sandbox, err = p.endpointsAt(p.root, extSandbox, apiLevel); err != nil {
		return nil, err
	}
	if d.api.CORS, err = p.cors(); err != nil {
		return nil, err
	}

	anyProduction := d.api.Production != nil
	sandboxLine := lineOf(get(p.root, extSandbox).key)
	pathItems := index(get(p.root, "paths").val)
	keys := []string{}
	if doc.Paths != nil {
		for k := range doc.Paths.Map() {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
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
			if r.Production, err = p.endpointsAt(opEntry.val, extProduction, place); err != nil {
				return nil, err
			}
			if r.Sandbox, err = p.endpointsAt(opEntry.val, extSandbox, place); err != nil {
				return nil, err
			}
			if r.Production != nil {
				anyProduction = true
			}
			if r.Sandbox != nil && sandboxLine == 0 {
				sandboxLine = lineOf(get(opEntry.val, extSandbox).key)
			}
			d.api.Resources = append(d.api.Resources, r)
			d.lines = append(d.lines, lineOf(opEntry.key))
		}
	}
	if len(d.api.Resources) == 0 {
		p.warn(lineOf(get(p.root, "paths").key), "the API has no operations, so the gateway serves nothing for it")
	}

	if !anyProduction {
		d.api.Production = serverEndpoints(doc)
	}
	if d.api.Production == nil {
		for i, r := range d.api.Resources {
			if r.Production == nil {
				hint := "add x-wso2-production-endpoints to this operation or at API level"
				if !anyProduction {
					hint += ", or an absolute http(s) URL under servers"
				}
				return nil, p.fail(d.lines[i], r.Method+" "+r.Path, "no production endpoint serves this operation", hint)
			}
		}
	}
	if sandboxLine > 0 {
		p.warn(sandboxLine, "sandbox endpoints are checked and their etcd keys resolved, but requests reach only the production endpoints until authentication exists")
	}
	sort.SliceStable(p.warnings, func(i, j int) bool { return p.warnings[i].Line < p.warnings[j].Line })
	d.warnings = p.warnings
	d.etcdLines = p.etcdLines
	return d, nil
}

// checkPaths refuses path templates that cannot be routed, before the
// validator gives a less precise error about them.
func (p *parser) checkPaths() error {
	for _, e := range pairs(get(p.root, "paths").val) {
		if strings.HasPrefix(e.key.Value, "x-") {
			continue
		}
		if msg, hint := checkPath(e.key.Value, true); msg != "" {
			return p.fail(e.key.Line, "path "+showPath(e.key.Value), msg, hint)
		}
	}
	return nil
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
			return "", 0, p.fail(e.key.Line, place, extBasePath+" must be a string, got "+kindName(e.val), "write e.g. x-wso2-basePath: /petstore/{version}")
		}
		version := ""
		if doc.Info != nil {
			version = doc.Info.Version
		}
		bp := normalizeBasePath(strings.ReplaceAll(e.val.Value, "{version}", version))
		if msg, hint := checkPath(bp, false); msg != "" {
			return "", 0, p.fail(e.key.Line, place, fmt.Sprintf("%s %q (base path %q) %s", extBasePath, e.val.Value, bp, msg), hint)
		}
		return bp, e.key.Line, nil
	}
	var raw string
	var line int
	if p.swagger {
		if e := get(p.root, "basePath"); e.key != nil && e.val.Kind == yaml.ScalarNode {
			raw, line = e.val.Value, e.key.Line
		}
	} else if len(doc.Servers) > 0 {
		if u, err := url.Parse(expandServer(doc.Servers[0])); err == nil {
			raw, line = u.Path, lineOf(lookup(p.root, "servers"))
		}
	}
	if raw == "" {
		p.warn(0, "no %s, and no path in servers[0] (basePath in Swagger 2.0): the API is served at /", extBasePath)
		return "/", 0, nil
	}
	bp := normalizeBasePath(raw)
	if msg, hint := checkPath(bp, false); msg != "" {
		return "", 0, p.fail(line, place, fmt.Sprintf("base path %q %s", bp, msg), hint)
	}
	return bp, line, nil
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
	return "", ""
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

// serverEndpoints turns the absolute http(s) servers into production endpoints.
func serverEndpoints(doc *openapi3.T) *spec.Endpoints {
	var urls []spec.EndpointURL
	seen := map[string]bool{}
	for _, s := range doc.Servers {
		t, err := endpoint.Parse(expandServer(s))
		if err != nil || seen[t.Raw] {
			continue
		}
		seen[t.Raw] = true
		urls = append(urls, spec.EndpointURL{URL: t.Raw})
	}
	switch len(urls) {
	case 0:
		return nil
	case 1:
		return &spec.Endpoints{Type: spec.TypeHTTP, URLs: urls}
	}
	return &spec.Endpoints{Type: spec.TypeLoadBalance, URLs: urls}
}

// routeKey is a route with its path parameter names blanked, so that
// /pet/{id} and /pet/{petId} compare equal.
func routeKey(basePath, p, method string) string {
	full := p
	if basePath != "/" {
		full = basePath + p
	}
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

// crossCheck refuses two APIs with one base path, and two resources with one route.
func crossCheck(defs []*definition) error {
	var errs []error
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
			pr := prev.d.api.Resources[prev.i]
			where := prev.d.file
			if prev.d == d {
				where = "this file"
			}
			if pl := prev.d.lines[prev.i]; pl > 0 {
				where += fmt.Sprintf(" (line %d)", pl)
			}
			errs = append(errs, &DefinitionError{
				File: d.file, Line: d.lines[i], Place: r.Method + " " + r.Path,
				Msg:  fmt.Sprintf("route %s %s%s is also served by %s %s%s in %s", r.Method, joinBase(d.api.BasePath), r.Path, pr.Method, joinBase(prev.d.api.BasePath), pr.Path, where),
				Hint: "each method and path may be served once: remove one, or change a base path",
			})
		}
	}
	return errors.Join(errs...)
}

func joinBase(bp string) string {
	if bp == "/" {
		return ""
	}
	return bp
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
