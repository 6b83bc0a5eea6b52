package definition

import (
	"fmt"
	"slices"
	"sort"
	"strings"

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

// unsupportedExts are micro-gw extensions accepted in definitions but not acted on yet.
var unsupportedExts = []string{
	"x-wso2-disable-security", "x-wso2-application-security", "x-wso2-auth-header",
	"x-wso2-throttling-tier", "x-wso2-request-interceptor",
	"x-wso2-response-interceptor", "x-wso2-mutual-ssl", "x-wso2-response-cache",
}

// apiLevelExts and operationExts are the extensions read at each level.
var (
	apiLevelExts  = []string{extBasePath, extProduction, extSandbox, extEndpoints, extCORS, extTransports}
	operationExts = []string{extProduction, extSandbox}
)

// knownExts lists every extension name known, for "did you mean" hints.
var knownExts = slices.Concat(apiLevelExts, unsupportedExts)

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
		p.warn(first, "not supported yet, so ignored: %s (the gateway does not authenticate, throttle, intercept or cache requests yet)", strings.Join(names, ", "))
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
	switch {
	case slices.Contains(unsupportedExts, name):
		if _, ok := sc.unsupported[name]; !ok {
			sc.unsupported[name] = key
		}
	case level == "api" && slices.Contains(apiLevelExts, name),
		level == "operation" && slices.Contains(operationExts, name):
	case slices.Contains(operationExts, name):
		note("%s is read at API level and in operations only; ignored here", name)
	case slices.Contains(apiLevelExts, name):
		note("%s is read at API level only; ignored here", name)
	default:
		note("unknown extension %s is ignored; did you mean %s?", name, nearest(name, knownExts))
	}
}

// corsKeys are the keys of x-wso2-cors, as micro-gw 3.x documented them.
var corsKeys = []string{"corsConfigurationEnabled", "accessControlAllowOrigins", "accessControlAllowCredentials",
	"accessControlAllowHeaders", "accessControlAllowMethods", "accessControlExposeHeaders"}

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
func (p *parser) cors() (*spec.CORS, error) {
	e := get(p.root, extCORS)
	if e.key == nil {
		return nil, nil
	}
	const place = "API level"
	if e.val.Kind != yaml.MappingNode {
		return nil, p.fail(e.key, place, extCORS+" must be an object, got "+kindName(e.val), "write e.g. x-wso2-cors: {accessControlAllowOrigins: [\"https://app.example.com\"]}")
	}
	c := &spec.CORS{Enabled: true}
	canonical := map[string]string{}
	for _, k := range corsKeys {
		canonical[canonicalKey(k)] = k
	}
	seen := map[string]*yaml.Node{}
	var failed error
	for _, kv := range pairs(e.val) {
		name, known := canonical[canonicalKey(kv.key.Value)]
		if !known {
			p.warnUnknownKey(kv.key, extCORS, corsKeys...)
			continue
		}
		if prev, dup := seen[name]; dup {
			p.collect(p.fail(kv.key, place, fmt.Sprintf("%s: %s is given twice (also at line %d)", extCORS, name, prev.Line), "keep one of them"))
			continue
		}
		seen[name] = kv.key
		var err error
		switch name {
		case "corsConfigurationEnabled":
			c.Enabled, err = p.boolean(kv, place)
		case "accessControlAllowCredentials":
			c.AllowCredentials, err = p.boolean(kv, place)
		case "accessControlAllowOrigins":
			c.AllowOrigins, err = p.stringList(kv, place)
		case "accessControlAllowHeaders":
			c.AllowHeaders, err = p.stringList(kv, place)
		case "accessControlAllowMethods":
			c.AllowMethods, err = p.stringList(kv, place)
		case "accessControlExposeHeaders":
			c.ExposeHeaders, err = p.stringList(kv, place)
		}
		if err != nil {
			p.collect(err)
			failed = err
		}
	}
	if failed != nil {
		return nil, nil // each bad key was collected
	}
	return c, nil
}

// transports reads x-wso2-transports: the listeners (http, https) that
// serve the API; nil means both.
func (p *parser) transports() ([]string, error) {
	e := get(p.root, extTransports)
	if e.key == nil {
		return nil, nil
	}
	const place = "API level"
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
				return nil, p.fail(it, place, fmt.Sprintf("%s holds %q, which is neither http nor https", extTransports, it.Value), hint)
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		return nil, p.fail(e.key, place, extTransports+" lists no transport, so no listener would serve the API", hint)
	}
	if len(out) == 2 {
		return nil, nil
	}
	return out, nil
}
