package definition

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// The x-wso2-* extensions of WSO2 API Microgateway 3.x that are read here.
const (
	extBasePath   = "x-wso2-basePath"
	extProduction = "x-wso2-production-endpoints"
	extSandbox    = "x-wso2-sandbox-endpoints"
	extEndpoints  = "x-wso2-endpoints"
	extCORS       = "x-wso2-cors"
	extTransports = "x-wso2-transports"

	endpointsRefPrefix = "#/x-wso2-endpoints/"
	etcdForm           = "etcd(<key>, <default_URL>)"
)

// extension is one x-wso2-* key and what reads its value at each level.
type extension struct {
	name string
	// api reads the key at the top of the document into d; op reads it in
	// the operation at place into r. A key with neither is accepted but not
	// acted on yet (warned about once).
	api func(p *parser, e pair, d *loadedAPI, doc *openapi3.T) error
	op  func(p *parser, e pair, r *spec.Resource, place string) error
}

// extensions are every x-wso2-* key micro-gw knows, in the order "did you
// mean" prefers them. It is the one list: scanExtensions checks each key of
// a definition against it, and model reads each key with its readers, in
// this order.
var extensions = []extension{
	{name: extBasePath, api: readBasePath},
	endpointsExtension(extProduction, false),
	endpointsExtension(extSandbox, true),
	// The named entries are read when an endpoint extension first refers to
	// one; this reads them, and reports their errors, when none does.
	{name: extEndpoints, api: func(p *parser, _ pair, _ *loadedAPI, _ *openapi3.T) error {
		p.namedEndpoints()
		return nil
	}},
	{name: extCORS, api: func(p *parser, e pair, d *loadedAPI, _ *openapi3.T) (err error) {
		d.api.CORS, err = p.cors(e)
		return err
	}},
	{name: extTransports, api: func(p *parser, e pair, d *loadedAPI, _ *openapi3.T) (err error) {
		d.api.Transports, err = p.transports(e)
		return err
	}},
	{name: extRequestValidation, api: readValidationSwitch(func(d *loadedAPI) *validationSwitch { return &d.requestValidation })},
	{name: extResponseValidation, api: readValidationSwitch(func(d *loadedAPI) *validationSwitch { return &d.responseValidation })},
	securityExtension(extDisableSecurity, readDisableSecurity),
	securityExtension(extAppSecurity, readAppSecurity),
	securityExtension(extAuthHeader, readAuthHeader),
	{name: extThrottlingTier,
		api: func(p *parser, e pair, d *loadedAPI, _ *openapi3.T) (err error) {
			d.api.ThrottlingTier, err = p.throttlingTier(e, apiLevel)
			return err
		},
		op: func(p *parser, e pair, r *spec.Resource, place string) (err error) {
			r.ThrottlingTier, err = p.throttlingTier(e, place)
			return err
		},
	},
	{name: "x-wso2-request-interceptor"}, {name: "x-wso2-response-interceptor"},
	{name: extMutualSSL, api: readMutualSSL}, {name: "x-wso2-response-cache"},
}

// endpointsExtension is the extension name that holds endpoints, read at
// API level and in operations: the production ones, or the sandbox ones.
func endpointsExtension(name string, sandbox bool) extension {
	slot := func(production, sandboxes **spec.Endpoints) **spec.Endpoints {
		if sandbox {
			return sandboxes
		}
		return production
	}
	return extension{name: name,
		api: func(p *parser, e pair, d *loadedAPI, _ *openapi3.T) (err error) {
			*slot(&d.api.Production, &d.api.Sandbox), err = p.endpoints(e, apiLevel)
			return err
		},
		op: func(p *parser, e pair, r *spec.Resource, place string) (err error) {
			*slot(&r.Production, &r.Sandbox), err = p.endpoints(e, place)
			return err
		},
	}
}

// extensionNamed returns the extension named name, or nil.
func extensionNamed(name string) *extension {
	for i := range extensions {
		if extensions[i].name == name {
			return &extensions[i]
		}
	}
	return nil
}

// extensionNames returns the names of extensions, in order.
func extensionNames() []string {
	names := make([]string, len(extensions))
	for i, x := range extensions {
		names[i] = x.name
	}
	return names
}

// extNote is one warning about an extension name, given once at the first
// place and counting the others, so that each name is named once.
type extNote struct {
	at     *yaml.Node
	format string
	more   int
}

// extScan collects what scanExtensions finds, by extension name.
type extScan struct {
	// unsupported and others hold the first key of each name: micro-gw
	// extensions not acted on yet, and other tools' extensions.
	unsupported, others map[string]*yaml.Node
	// notes are the unknown and misplaced x-wso2-* names, in order.
	notes map[string]*extNote
	order []string
}

// scanExtensions warns about every extension the gateway does not act on,
// so that none is silently ignored: x-wso2-* keys that are unknown,
// misplaced or not supported yet, and the extensions of other tools. Each
// name gets one warning.
func (p *parser) scanExtensions() {
	sc := &extScan{unsupported: map[string]*yaml.Node{}, others: map[string]*yaml.Node{}, notes: map[string]*extNote{}}
	var walk func(n *yaml.Node, level string)
	walk = func(n *yaml.Node, level string) {
		n = deref(n)
		if n == nil {
			return
		}
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				walk(c, "")
			}
			return
		}
		for _, kv := range pairs(n) {
			name := kv.key.Value
			if strings.HasPrefix(strings.ToLower(name), "x-wso2-") {
				p.checkExtension(kv.key, level, sc)
				continue
			}
			if strings.HasPrefix(name, "x-") && level != "names" {
				if _, ok := sc.others[name]; !ok {
					sc.others[name] = kv.key
				}
				continue
			}
			switch {
			case level == "api" && name == "paths":
				for _, item := range pairs(kv.val) {
					if strings.HasPrefix(item.key.Value, "x-") {
						walk(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{item.key, item.val}}, "")
						continue
					}
					walk(item.val, "path")
				}
			case level == "path" && slices.Contains(methods, strings.ToUpper(name)) && name == strings.ToLower(name):
				walk(kv.val, "operation")
			case level == "names":
				walk(kv.val, "")
			case name == "properties" || name == "patternProperties":
				walk(kv.val, "names")
			case name == "example" || name == "examples" || name == "default" || name == "enum":
				// data, not definition
			default:
				walk(kv.val, "")
			}
		}
	}
	walk(p.root, "api")

	for _, name := range sc.order {
		n := sc.notes[name]
		msg := n.format
		if n.more > 0 {
			msg += fmt.Sprintf(" (also in %d more %s)", n.more, pluralWord(n.more, "place"))
		}
		p.warn(n.at, "%s", msg)
	}
	if names, first := firstOf(sc.unsupported); len(names) > 0 {
		p.warn(first, "not supported yet, so ignored: %s (the gateway does not intercept or cache requests yet)", strings.Join(names, ", "))
	}
	if names, first := firstOf(sc.others); len(names) > 0 {
		p.warn(first, "extensions of other tools are ignored: %s (micro-gw reads only the x-wso2-* extensions)", strings.Join(names, ", "))
	}
}

// firstOf returns the sorted names of m and the earliest of their nodes.
func firstOf(m map[string]*yaml.Node) ([]string, *yaml.Node) {
	names := make([]string, 0, len(m))
	var first *yaml.Node
	for n, at := range m {
		names = append(names, n)
		if first == nil || at.Line < first.Line || (at.Line == first.Line && at.Column < first.Column) {
			first = at
		}
	}
	sort.Strings(names)
	return names, first
}

// checkExtension records one x-wso2-* key found at level ("api",
// "operation", "path", or "" for anywhere else).
func (p *parser) checkExtension(key *yaml.Node, level string, sc *extScan) {
	name := key.Value
	note := func(format string, args ...any) {
		if n, ok := sc.notes[name]; ok {
			n.more++
			return
		}
		sc.notes[name] = &extNote{at: key, format: fmt.Sprintf(format, args...)}
		sc.order = append(sc.order, name)
	}
	x := extensionNamed(name)
	switch {
	case x == nil:
		note("unknown extension %s is ignored; did you mean %s?", name, nearest(name, extensionNames()))
	case x.api == nil && x.op == nil:
		if _, ok := sc.unsupported[name]; !ok {
			sc.unsupported[name] = key
		}
	case level == "api" && x.api != nil, level == "operation" && x.op != nil:
	case x.op != nil:
		note("%s is read at API level and in operations only; ignored here", name)
	default:
		note("%s is read at API level only; ignored here", name)
	}
}

// canonicalKey folds the spellings micro-gw 3.x accepted for one key,
// camelCase, kebab-case and snake_case (accessControlAllowOrigins,
// access-control-allow-origins, access_control_allow_origins), to one.
func canonicalKey(k string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(k))
}

// cors reads x-wso2-cors as micro-gw 3.x did: present means on, unless
// corsConfigurationEnabled is false, and every key may be written in
// camelCase, kebab-case or snake_case. A bad key is reported and the
// others are still read.
func (p *parser) cors(e pair) (*spec.CORS, error) {
	if e.val.Kind != yaml.MappingNode {
		return nil, p.fail(e.key, apiLevel, extCORS+" must be an object, got "+kindName(e.val), "write e.g. x-wso2-cors: {accessControlAllowOrigins: [\"https://app.example.com\"]}")
	}
	c := &spec.CORS{Enabled: true}
	// The keys as micro-gw 3.x documented them.
	fields := []field{
		{"corsConfigurationEnabled", func(kv pair) (err error) { c.Enabled, err = p.boolean(kv, apiLevel); return err }},
		{"accessControlAllowOrigins", func(kv pair) (err error) { c.AllowOrigins, err = p.stringList(kv, apiLevel); return err }},
		{"accessControlAllowCredentials", func(kv pair) (err error) { c.AllowCredentials, err = p.boolean(kv, apiLevel); return err }},
		{"accessControlAllowHeaders", func(kv pair) (err error) { c.AllowHeaders, err = p.stringList(kv, apiLevel); return err }},
		{"accessControlAllowMethods", func(kv pair) (err error) { c.AllowMethods, err = p.stringList(kv, apiLevel); return err }},
		{"accessControlExposeHeaders", func(kv pair) (err error) { c.ExposeHeaders, err = p.stringList(kv, apiLevel); return err }},
	}
	seen := map[string]*yaml.Node{}
	failed := false
	for _, kv := range pairs(e.val) {
		i := slices.IndexFunc(fields, func(f field) bool { return canonicalKey(f.name) == canonicalKey(kv.key.Value) })
		if i < 0 {
			p.warnUnknownKey(kv.key, extCORS, fieldNames(fields)...)
			continue
		}
		name := fields[i].name
		if prev, dup := seen[name]; dup {
			p.collect(p.fail(kv.key, apiLevel, fmt.Sprintf("%s: %s is given twice (also at line %d)", extCORS, name, prev.Line), "keep one of them"))
			continue
		}
		seen[name] = kv.key
		if err := fields[i].read(kv); err != nil {
			p.collect(err)
			failed = true
		}
	}
	if failed {
		return nil, nil // each bad key was collected
	}
	return c, nil
}

// transports reads x-wso2-transports: the listeners (http, https) that
// serve the API; nil means both.
func (p *parser) transports(e pair) ([]string, error) {
	hint := "write " + extTransports + ": [http, https], or one of them to serve the API on that listener only"
	var items []*yaml.Node
	switch e.val.Kind {
	case yaml.SequenceNode:
		items = e.val.Content
	case yaml.ScalarNode:
		items = []*yaml.Node{e.val} // micro-gw 3.x also read a single value
	}
	var out []string
	for _, it := range items {
		it = deref(it)
		for _, v := range strings.Split(it.Value, ",") {
			v = strings.ToLower(strings.TrimSpace(v))
			if it.Kind != yaml.ScalarNode || (v != spec.TransportHTTP && v != spec.TransportHTTPS) {
				return nil, p.fail(it, apiLevel, fmt.Sprintf("%s holds %q, which is neither http nor https", extTransports, it.Value), hint)
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		return nil, p.fail(e.key, apiLevel, extTransports+" lists no transport, so no listener would serve the API", hint)
	}
	if len(out) == 2 {
		return nil, nil
	}
	return out, nil
}
