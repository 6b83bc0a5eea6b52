package definition

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// apiLevel is the place of what the document says for the whole API.
const apiLevel = "API level"

// methods are the HTTP methods a resource may have, in the order resources are sorted.
var methods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}

// model turns a validated document into the route model (spec.API). Each part that
// fails is recorded and the others are still read.
func (p *parser) model(doc *openapi3.T, apiFile string) *loadedAPI {
	d := &loadedAPI{file: p.file, api: spec.API{File: apiFile}}
	if doc.Info != nil {
		d.api.Title, d.api.Version = doc.Info.Title, doc.Info.Version
	}
	p.scanExtensions()
	p.readSchemes()
	p.scanUnsupportedFields()
	p.readAPILevel(d, doc)

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
	var ops []operationAt    // parallel to d.api.Resources
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
			p.sec.op = secExts{}
			p.readOperation(opEntry.val, &r, place)
			r.Security = p.resolveSecurity(opEntry.val, place)
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
			ops = append(ops, operationAt{op: op, item: item, node: opEntry.val, itemNode: itemNode, place: place})
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
	p.validation(d, doc, ops)
	if sandboxLine != nil {
		p.warnUnreachableSandbox(d, sandboxLine)
	}
	d.warnings = p.warnings
	d.etcdLines = p.etcdLines
	d.tiers = p.tiers
	return d
}

// readAPILevel reads the extensions at the top of the document into d, in
// the order of the extensions table, and the base path from servers when
// there is no x-wso2-basePath.
func (p *parser) readAPILevel(d *loadedAPI, doc *openapi3.T) {
	for _, x := range extensions {
		if x.api == nil {
			continue
		}
		if e := get(p.root, x.name); e.key != nil {
			p.collect(x.api(p, e, d, doc))
		}
	}
	if get(p.root, extBasePath).key == nil {
		p.collect(p.defaultBasePath(d, doc))
	}
}

// readOperation reads the extensions of the operation node op, at place, into r.
func (p *parser) readOperation(op *yaml.Node, r *spec.Resource, place string) {
	for _, x := range extensions {
		if x.op == nil {
			continue
		}
		if e := get(op, x.name); e.key != nil {
			p.collect(x.op(p, e, r, place))
		}
	}
}

// checkProduction refuses operations no production endpoint serves: each
// one, or only the first when none has one (the API has no endpoint at
// all). An operation whose own endpoint extension failed was reported then.
func (p *parser) checkProduction(d *loadedAPI, anyExt bool, ownExt map[int]bool) {
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

// readBasePath reads x-wso2-basePath, in which {version} stands for info.version.
func readBasePath(p *parser, e pair, d *loadedAPI, doc *openapi3.T) error {
	if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!str" {
		return p.fail(e.key, apiLevel, extBasePath+" must be a string, got "+kindName(e.val), "write e.g. x-wso2-basePath: /petstore/{version}")
	}
	version := ""
	if doc.Info != nil {
		version = doc.Info.Version
	}
	bp := normalizeBasePath(strings.ReplaceAll(e.val.Value, "{version}", version))
	if msg, hint := checkPath(bp, false); msg != "" {
		return p.fail(e.key, apiLevel, fmt.Sprintf("%s %q (base path %q) %s", extBasePath, e.val.Value, bp, msg), hint)
	}
	d.api.BasePath, d.basePathLine, d.routable = bp, e.key.Line, true
	return nil
}

// defaultBasePath works out the base path of an API without
// x-wso2-basePath: the path of servers[0] (basePath in Swagger 2.0), else /.
func (p *parser) defaultBasePath(d *loadedAPI, doc *openapi3.T) error {
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
		d.api.BasePath, d.routable = "/", true
		return nil
	}
	bp := normalizeBasePath(raw)
	if msg, hint := checkPath(bp, false); msg != "" {
		return p.fail(at, apiLevel, fmt.Sprintf("base path %q %s", bp, msg), hint)
	}
	d.api.BasePath, d.basePathLine, d.routable = bp, lineOf(at), true
	return nil
}

// normalizeBasePath gives a base path one leading "/" and no trailing one.
func normalizeBasePath(s string) string {
	s = strings.TrimRight(s, "/")
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	return s
}

// warnUnreachableSandbox warns when sandbox endpoints are declared only
// for operations no SANDBOX credential can pass (spec.Security
// CanBeSandbox): served open, which reads no credential, or accepting only
// basic auth, whose users are always PRODUCTION.
func (p *parser) warnUnreachableSandbox(d *loadedAPI, at *yaml.Node) {
	allOpen := true
	for i := range d.api.Resources {
		r := &d.api.Resources[i]
		if r.EffectiveSandbox(&d.api) == nil {
			continue
		}
		sec := r.EffectiveSecurity()
		if sec.CanBeSandbox() {
			return
		}
		allOpen = allOpen && sec.Disabled
	}
	if allOpen {
		p.warn(at, "sandbox endpoints are never used: only a SANDBOX credential reaches them, and every operation that has them is served open (x-wso2-disable-security)")
		return
	}
	p.warn(at, "sandbox endpoints are never used: only a SANDBOX credential reaches them, and every operation that has them is served open or accepts only basic auth, whose users are always PRODUCTION; accept an OAuth2 token or an API key there")
}
