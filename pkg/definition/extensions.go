package definition

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
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

// namedEndpoints reads the top-level x-wso2-endpoints list. An entry that
// fails is recorded as defined but empty (nil), so that references to it
// do not also report it missing.
func (p *parser) namedEndpoints() {
	p.named = map[string]*spec.Endpoints{}
	e := get(p.root, extEndpoints)
	if e.key == nil {
		return
	}
	const hint = "write x-wso2-endpoints as a list of named entries: [{myBackend: {urls: [https://host/v1]}}]"
	if e.val.Kind != yaml.SequenceNode {
		p.collect(p.fail(e.key, "API level", extEndpoints+" must be a list, got "+kindName(e.val), hint))
		return
	}
	for _, item := range e.val.Content {
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			p.collect(p.fail(item, "API level", "an entry of "+extEndpoints+" must be an object {<name>: {urls: [...]}}, got "+kindName(item), hint))
			continue
		}
		for _, kv := range pairs(item) {
			name := kv.key.Value
			place := extEndpoints + " entry " + fmt.Sprintf("%q", name)
			if name == "" || strings.ContainsAny(name, "/~") {
				p.collect(p.fail(kv.key, place, "the name must be non-empty and hold no / or ~", hint))
				continue
			}
			if _, dup := p.named[name]; dup {
				p.collect(p.fail(kv.key, place, "the name is defined twice", "give each entry of "+extEndpoints+" its own name"))
				continue
			}
			p.named[name] = nil
			if kv.val.Kind != yaml.MappingNode {
				p.collect(p.fail(kv.key, place, "must be an object {type, urls, advanceEndpointConfig}, got "+kindName(kv.val), hint))
				continue
			}
			ep, err := p.endpointObject(kv.val, place)
			if err != nil {
				p.collect(err)
				continue
			}
			ep.Name = name
			p.named[name] = ep
		}
	}
}

// endpointsAt reads the endpoint extension key of mapping n (nil when absent).
func (p *parser) endpointsAt(n *yaml.Node, key, place string) (*spec.Endpoints, error) {
	e := get(n, key)
	if e.key == nil {
		return nil, nil
	}
	hint := "write {urls: [https://host/v1]} (with optional type and advanceEndpointConfig), or a reference \"" + endpointsRefPrefix + "<name>\""
	switch e.val.Kind {
	case yaml.MappingNode:
		return p.endpointObject(e.val, place)
	case yaml.ScalarNode:
		if e.val.ShortTag() != "!!str" {
			break
		}
		ref := strings.TrimSpace(e.val.Value)
		name, ok := strings.CutPrefix(ref, endpointsRefPrefix)
		if !ok {
			return nil, p.fail(e.val, place, fmt.Sprintf("%s is the string %q, which is not a reference", key, ref), hint)
		}
		ep, ok := p.named[name]
		if !ok {
			defined := make([]string, 0, len(p.named))
			for n := range p.named {
				defined = append(defined, n)
			}
			sort.Strings(defined)
			h := "define it in the top-level " + extEndpoints + " list"
			if len(defined) > 0 {
				h += " (defined: " + strings.Join(defined, ", ") + ")"
			}
			return nil, p.fail(e.val, place, fmt.Sprintf("%s refers to %q, which is not defined", key, ref), h)
		}
		if ep == nil {
			return nil, nil // the entry itself failed, and was reported
		}
		cp := *ep
		return &cp, nil
	}
	return nil, p.fail(e.key, place, fmt.Sprintf("%s must be an object or a reference, got %s", key, kindName(e.val)), hint)
}

// endpointObject reads {type, urls, advanceEndpointConfig}.
func (p *parser) endpointObject(n *yaml.Node, place string) (*spec.Endpoints, error) {
	ep := &spec.Endpoints{}
	var urls, typ pair
	for _, kv := range pairs(n) {
		switch kv.key.Value {
		case "urls":
			urls = kv
		case "type":
			typ = kv
		case "advanceEndpointConfig":
			adv, err := p.advanced(kv, place)
			if err != nil {
				return nil, err
			}
			ep.Advanced = adv
		case "securityConfig":
			p.warn(kv.key, "%s: endpoint securityConfig (credentials for the backend) is not supported yet, so ignored", place)
		default:
			p.warnUnknownKey(kv.key, place, "type", "urls", "advanceEndpointConfig")
		}
	}
	if urls.key == nil {
		return nil, p.fail(n, place, "the endpoint list has no urls", "add urls: [https://host/v1] (plain URLs or "+etcdForm+")")
	}
	var items []*yaml.Node
	switch urls.val.Kind {
	case yaml.SequenceNode:
		items = urls.val.Content
	case yaml.ScalarNode:
		items = []*yaml.Node{urls.val}
	}
	if len(items) == 0 {
		return nil, p.fail(urls.key, place, "urls must be a non-empty list, got "+kindName(urls.val), "list the backend URLs: urls: [https://host/v1]")
	}
	// Each bad URL is reported; the first is returned, the others collected.
	var bad error
	report := func(e *DefinitionError) {
		if bad == nil {
			bad = e
		} else {
			p.collect(e)
		}
	}
	for _, it := range items {
		it = deref(it)
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!str" {
			report(p.fail(it, place, "an endpoint URL must be a string, got "+kindName(it), "write an absolute http(s) URL or "+etcdForm))
			continue
		}
		u, err := parseEndpointURL(it.Value)
		if err != nil {
			e := p.fail(it, place, err.Error(), err.hint)
			e.Err = err
			report(e)
			continue
		}
		if u.EtcdKey != "" {
			k := [2]string{u.EtcdKey, u.URL}
			if _, seen := p.etcdLines[k]; !seen {
				p.etcdLines[k] = it.Line
			}
		}
		ep.URLs = append(ep.URLs, u)
	}
	if bad != nil {
		return nil, bad
	}

	valid := []string{spec.TypeHTTP, spec.TypeLoadBalance, spec.TypeFailover}
	switch {
	case typ.key == nil && len(ep.URLs) == 1:
		ep.Type = spec.TypeHTTP
	case typ.key == nil:
		ep.Type = spec.TypeLoadBalance
	case typ.val.Kind != yaml.ScalarNode || !slices.Contains(valid, typ.val.Value):
		return nil, p.fail(typ.val, place, fmt.Sprintf("unknown endpoint type %q", typ.val.Value),
			fmt.Sprintf("use one of %s (did you mean %s?)", strings.Join(valid, ", "), nearest(typ.val.Value, valid)))
	default:
		ep.Type = typ.val.Value
	}
	if ep.Type == spec.TypeHTTP && len(ep.URLs) > 1 {
		p.warn(typ.val, "%s: type http uses one URL; building with the first, %s, and ignoring %d more (use load_balance or failover to use them all)", place, ep.URLs[0], len(ep.URLs)-1)
		ep.URLs = ep.URLs[:1]
	}
	return ep, nil
}

// advanced reads advanceEndpointConfig.
func (p *parser) advanced(e pair, place string) (*spec.AdvancedConfig, error) {
	if e.val.Kind != yaml.MappingNode {
		return nil, p.fail(e.key, place, "advanceEndpointConfig must be an object, got "+kindName(e.val), "write e.g. advanceEndpointConfig: {timeoutInMillis: 7000}")
	}
	a := &spec.AdvancedConfig{}
	var err error
	for _, kv := range pairs(e.val) {
		switch kv.key.Value {
		case "timeoutInMillis":
			a.TimeoutMillis, err = p.count(kv, place)
		case "retryConfig":
			a.Retry, err = p.retry(kv, place)
		case "circuitBreaker":
			a.CircuitBreaker, err = p.breaker(kv, place)
		default:
			p.warnUnknownKey(kv.key, place+": advanceEndpointConfig", "timeoutInMillis", "retryConfig", "circuitBreaker")
		}
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (p *parser) retry(e pair, place string) (*spec.RetryConfig, error) {
	if e.val.Kind != yaml.MappingNode {
		return nil, p.fail(e.key, place, "retryConfig must be an object, got "+kindName(e.val), "write e.g. retryConfig: {count: 1, intervalInMillis: 1000}")
	}
	r := &spec.RetryConfig{}
	var err error
	for _, kv := range pairs(e.val) {
		switch kv.key.Value {
		case "count":
			r.Count, err = p.count(kv, place)
		case "intervalInMillis":
			r.IntervalMillis, err = p.count(kv, place)
		case "backOffFactor":
			r.BackOffFactor, err = p.fraction(kv, place, math.MaxInt32)
		case "maxWaitIntervalInMillis":
			r.MaxWaitIntervalMillis, err = p.count(kv, place)
		case "statusCodes":
			r.StatusCodes, err = p.statusCodes(kv, place)
		default:
			p.warnUnknownKey(kv.key, place+": retryConfig", "count", "intervalInMillis", "backOffFactor", "maxWaitIntervalInMillis", "statusCodes")
		}
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (p *parser) breaker(e pair, place string) (*spec.CircuitBreaker, error) {
	if e.val.Kind != yaml.MappingNode {
		return nil, p.fail(e.key, place, "circuitBreaker must be an object, got "+kindName(e.val), "write e.g. circuitBreaker: {failureThreshold: 0.5, resetTimeInMillis: 5000}")
	}
	c := &spec.CircuitBreaker{}
	var err error
	for _, kv := range pairs(e.val) {
		switch kv.key.Value {
		case "rollingWindow":
			if kv.val.Kind != yaml.MappingNode {
				return nil, p.fail(kv.key, place, "rollingWindow must be an object, got "+kindName(kv.val), "write e.g. rollingWindow: {requestVolumeThreshold: 10, timeWindowInMillis: 60000, bucketSizeInMillis: 2000}")
			}
			for _, w := range pairs(kv.val) {
				switch w.key.Value {
				case "requestVolumeThreshold":
					c.RequestVolumeThreshold, err = p.count(w, place)
				case "timeWindowInMillis":
					c.TimeWindowMillis, err = p.count(w, place)
				case "bucketSizeInMillis":
					c.BucketSizeMillis, err = p.count(w, place)
				default:
					p.warnUnknownKey(w.key, place+": rollingWindow", "requestVolumeThreshold", "timeWindowInMillis", "bucketSizeInMillis")
				}
				if err != nil {
					return nil, err
				}
			}
			if c.BucketSizeMillis > 0 && c.TimeWindowMillis > 0 && c.BucketSizeMillis > c.TimeWindowMillis {
				return nil, p.fail(kv.key, place, fmt.Sprintf("bucketSizeInMillis %d is larger than timeWindowInMillis %d", c.BucketSizeMillis, c.TimeWindowMillis), "a bucket is a slice of the rolling window; make it smaller than the window")
			}
		case "failureThreshold":
			c.FailureThreshold, err = p.fraction(kv, place, 1)
		case "resetTimeInMillis":
			c.ResetTimeMillis, err = p.count(kv, place)
		case "statusCodes":
			c.StatusCodes, err = p.statusCodes(kv, place)
		default:
			p.warnUnknownKey(kv.key, place+": circuitBreaker", "rollingWindow", "failureThreshold", "resetTimeInMillis", "statusCodes")
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// count reads a whole number from 0 to MaxInt32.
func (p *parser) count(kv pair, place string) (int, error) {
	var v int64
	if kv.val.Kind != yaml.ScalarNode || kv.val.ShortTag() != "!!int" || kv.val.Decode(&v) != nil || v < 0 || v > math.MaxInt32 {
		return 0, p.fail(kv.val, place, fmt.Sprintf("%s must be a whole number from 0 to %d, got %q", kv.key.Value, math.MaxInt32, kv.val.Value), "write e.g. "+kv.key.Value+": 1000")
	}
	return int(v), nil
}

// fraction reads a number from 0 to max.
func (p *parser) fraction(kv pair, place string, max float64) (float64, error) {
	var v float64
	tag := kv.val.ShortTag()
	if kv.val.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || kv.val.Decode(&v) != nil || math.IsNaN(v) || v < 0 || v > max {
		return 0, p.fail(kv.val, place, fmt.Sprintf("%s must be a number from 0 to %g, got %q", kv.key.Value, max, kv.val.Value), "write e.g. "+kv.key.Value+": 0.5")
	}
	return v, nil
}

// statusCodes reads a list of HTTP status codes (100..599).
func (p *parser) statusCodes(kv pair, place string) ([]int, error) {
	hint := "list HTTP status codes, e.g. statusCodes: [500, 502, 503]"
	if kv.val.Kind != yaml.SequenceNode {
		return nil, p.fail(kv.key, place, "statusCodes must be a list, got "+kindName(kv.val), hint)
	}
	codes := []int{}
	for _, it := range kv.val.Content {
		it = deref(it)
		var v int
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!int" || it.Decode(&v) != nil || v < 100 || v > 599 {
			return nil, p.fail(it, place, fmt.Sprintf("status code %q is not a number from 100 to 599", it.Value), hint)
		}
		codes = append(codes, v)
	}
	return codes, nil
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

func (p *parser) boolean(kv pair, place string) (bool, error) {
	var v bool
	if kv.val.Kind != yaml.ScalarNode || kv.val.ShortTag() != "!!bool" || kv.val.Decode(&v) != nil {
		return false, p.fail(kv.val, place, fmt.Sprintf("%s must be true or false, got %q", kv.key.Value, kv.val.Value), "write "+kv.key.Value+": true")
	}
	return v, nil
}

func (p *parser) stringList(kv pair, place string) ([]string, error) {
	hint := "write a list, e.g. " + kv.key.Value + ": [\"a\", \"b\"]"
	if kv.val.Kind != yaml.SequenceNode {
		return nil, p.fail(kv.key, place, kv.key.Value+" must be a list of strings, got "+kindName(kv.val), hint)
	}
	out := []string{}
	for _, it := range kv.val.Content {
		it = deref(it)
		if it.Kind != yaml.ScalarNode || it.ShortTag() == "!!null" {
			return nil, p.fail(it, place, kv.key.Value+" must hold strings, got "+kindName(it), hint)
		}
		if strings.ContainsFunc(it.Value, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, p.fail(it, place, fmt.Sprintf("%s entry %q holds a control character, which cannot go in an HTTP header", kv.key.Value, it.Value), hint)
		}
		out = append(out, it.Value)
	}
	return out, nil
}

// warnUnknownKey warns about a key an extension object does not define.
func (p *parser) warnUnknownKey(key *yaml.Node, place string, known ...string) {
	p.warn(key, "%s: unknown key %q is ignored; did you mean %s?", place, key.Value, nearest(key.Value, known))
}

// urlError is a bad endpoint URL entry with the form to write instead.
type urlError struct {
	msg, hint string
}

func (e *urlError) Error() string { return e.msg }

// parseEndpointURL reads one entry of urls: an absolute http(s) URL, or
// etcd(<key>, <default_URL>).
func parseEndpointURL(s string) (spec.EndpointURL, *urlError) {
	if name, ok := callForm(s); ok && !strings.EqualFold(name, "etcd") {
		return spec.EndpointURL{}, &urlError{msg: fmt.Sprintf("%s() endpoints are not supported", name), hint: "use " + etcdForm + " or a URL"}
	}
	if looksLikeEtcd(s) {
		key, def, err := parseEtcdEntry(s)
		if err != nil {
			return spec.EndpointURL{}, &urlError{msg: endpoint.Redact(fmt.Sprintf("malformed etcd entry %q: %v", s, err)), hint: "write " + etcdForm + ", e.g. etcd(petstore, https://petstore.example.com/v1)"}
		}
		return spec.EndpointURL{URL: def, EtcdKey: key}, nil
	}
	t, err := endpoint.Parse(s)
	if err != nil {
		return spec.EndpointURL{}, &urlError{msg: "bad endpoint URL: " + err.Error(), hint: "write an absolute http(s) URL such as https://host:8443/v1, or " + etcdForm}
	}
	return spec.EndpointURL{URL: t.Raw}, nil
}

// callForm reports whether s is written name(...), as micro-gw 3.x wrote
// discovery entries (etcd(...), and consul(...) in some versions), and returns
// the name.
func callForm(s string) (string, bool) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return "", false
	}
	name := strings.TrimRight(s[:open], " \t")
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "", false
		}
	}
	return name, name != ""
}

// looksLikeEtcd reports whether s is meant as an etcd entry: "etcd" followed
// by "(" (spaces allowed in between), by a space, or by nothing.
func looksLikeEtcd(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 4 || !strings.EqualFold(s[:4], "etcd") {
		return false
	}
	rest := s[4:]
	return rest == "" || rest[0] == '(' || rest[0] == ' ' || rest[0] == '\t'
}

// parseEtcdEntry parses etcd(<key>, <default_URL>) as micro-gw writes it:
// spaces are allowed around each part and before the parenthesis, there are
// exactly two parts, the key is non-empty, and the default is an absolute
// http(s) URL. The key and URL are returned trimmed.
func parseEtcdEntry(s string) (key, def string, err error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "etcd")
	if !ok {
		return "", "", fmt.Errorf("it must start with etcd, in lower case")
	}
	rest = strings.TrimLeft(rest, " \t")
	inner, ok := strings.CutPrefix(rest, "(")
	if !ok {
		return "", "", fmt.Errorf("etcd is not followed by (")
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return "", "", fmt.Errorf("it does not end with )")
	}
	if strings.ContainsAny(inner, "()") {
		return "", "", fmt.Errorf("parentheses inside etcd(...) are not allowed")
	}
	parts := strings.Split(inner, ",")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("it has %d part(s), want exactly 2: a key and a default URL", len(parts))
	}
	key, def = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
	if key == "" {
		return "", "", fmt.Errorf("the key is empty")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return "", "", fmt.Errorf("the key holds the control character %q", r)
		}
	}
	t, perr := endpoint.Parse(def)
	if perr != nil {
		return "", "", fmt.Errorf("the default URL is not usable: %w", perr)
	}
	return key, t.Raw, nil
}

// nearest returns the candidate closest to s by edit distance, ignoring case.
func nearest(s string, candidates []string) string {
	best, bestD := "", math.MaxInt
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
