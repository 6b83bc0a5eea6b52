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

// namedEndpoints returns the entries of the top-level x-wso2-endpoints list
// by name, reading them the first time. An entry that fails is recorded as
// defined but empty (nil), so that references to it do not also report it
// missing.
func (p *parser) namedEndpoints() map[string]*spec.Endpoints {
	if p.named == nil {
		p.named = map[string]*spec.Endpoints{}
		p.readNamedEndpoints(get(p.root, extEndpoints))
	}
	return p.named
}

// readNamedEndpoints reads the x-wso2-endpoints list e into p.named.
func (p *parser) readNamedEndpoints(e pair) {
	if e.key == nil {
		return
	}
	const hint = "write x-wso2-endpoints as a list of named entries: [{myBackend: {urls: [https://host/v1]}}]"
	if e.val.Kind != yaml.SequenceNode {
		p.collect(p.fail(e.key, apiLevel, extEndpoints+" must be a list, got "+kindName(e.val), hint))
		return
	}
	for _, item := range e.val.Content {
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			p.collect(p.fail(item, apiLevel, "an entry of "+extEndpoints+" must be an object {<name>: {urls: [...]}}, got "+kindName(item), hint))
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

// endpoints reads an endpoint extension, e: an endpoint object or a
// reference to a named one.
func (p *parser) endpoints(e pair, place string) (*spec.Endpoints, error) {
	key := e.key.Value
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
		named := p.namedEndpoints()
		ep, ok := named[name]
		if !ok {
			defined := make([]string, 0, len(named))
			for n := range named {
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
	err := p.readFields(n, place,
		field{"type", func(kv pair) error { typ = kv; return nil }},
		field{"urls", func(kv pair) error { urls = kv; return nil }},
		field{"advanceEndpointConfig", func(kv pair) (err error) { ep.Advanced, err = p.advanced(kv, place); return err }},
		field{"securityConfig", func(kv pair) error {
			p.warn(kv.key, "%s: endpoint securityConfig (credentials for the backend) is not supported yet, so ignored", place)
			return nil
		}})
	if err != nil {
		return nil, err
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
	report := func(e *Error) {
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
	// The model keeps the URLs the gateway uses (spec's rule), so that no
	// ignored URL's etcd key is watched or shown.
	if active := ep.Active(); len(active) < len(ep.URLs) {
		p.warn(typ.val, "%s: type %s uses one URL; building with the first, %s, and ignoring %d more (use load_balance or failover to use them all)", place, ep.Type, active[0], len(ep.URLs)-len(active))
		ep.URLs = active
	}
	return ep, nil
}

// advanced reads advanceEndpointConfig.
func (p *parser) advanced(e pair, place string) (*spec.AdvancedConfig, error) {
	return readNew(p, e, place, "{timeoutInMillis: 7000}", func(a *spec.AdvancedConfig) []field {
		return []field{
			{"timeoutInMillis", func(kv pair) (err error) { a.TimeoutMillis, err = p.count(kv, place); return err }},
			{"retryConfig", func(kv pair) (err error) { a.Retry, err = p.retry(kv, place); return err }},
			{"circuitBreaker", func(kv pair) (err error) { a.CircuitBreaker, err = p.breaker(kv, place); return err }},
		}
	})
}

// retry reads advanceEndpointConfig.retryConfig.
func (p *parser) retry(e pair, place string) (*spec.RetryConfig, error) {
	return readNew(p, e, place, "{count: 1, intervalInMillis: 1000}", func(r *spec.RetryConfig) []field {
		return []field{
			{"count", func(kv pair) (err error) { r.Count, err = p.count(kv, place); return err }},
			{"intervalInMillis", func(kv pair) (err error) { r.IntervalMillis, err = p.count(kv, place); return err }},
			{"backOffFactor", func(kv pair) (err error) { r.BackOffFactor, err = p.fraction(kv, place, math.MaxInt32); return err }},
			{"maxWaitIntervalInMillis", func(kv pair) (err error) { r.MaxWaitIntervalMillis, err = p.count(kv, place); return err }},
			{"statusCodes", func(kv pair) (err error) { r.StatusCodes, err = p.statusCodes(kv, place); return err }},
		}
	})
}

// breaker reads advanceEndpointConfig.circuitBreaker.
func (p *parser) breaker(e pair, place string) (*spec.CircuitBreaker, error) {
	return readNew(p, e, place, "{failureThreshold: 0.5, resetTimeInMillis: 5000}", func(c *spec.CircuitBreaker) []field {
		return []field{
			{"rollingWindow", func(kv pair) error { return p.rollingWindow(kv, place, c) }},
			{"failureThreshold", func(kv pair) (err error) { c.FailureThreshold, err = p.fraction(kv, place, 1); return err }},
			{"resetTimeInMillis", func(kv pair) (err error) { c.ResetTimeMillis, err = p.count(kv, place); return err }},
			{"statusCodes", func(kv pair) (err error) { c.StatusCodes, err = p.statusCodes(kv, place); return err }},
		}
	})
}

// rollingWindow reads circuitBreaker.rollingWindow into c.
func (p *parser) rollingWindow(e pair, place string, c *spec.CircuitBreaker) error {
	err := p.readObject(e, place, "{requestVolumeThreshold: 10, timeWindowInMillis: 60000, bucketSizeInMillis: 2000}",
		field{"requestVolumeThreshold", func(kv pair) (err error) { c.RequestVolumeThreshold, err = p.count(kv, place); return err }},
		field{"timeWindowInMillis", func(kv pair) (err error) { c.TimeWindowMillis, err = p.count(kv, place); return err }},
		field{"bucketSizeInMillis", func(kv pair) (err error) { c.BucketSizeMillis, err = p.count(kv, place); return err }})
	if err != nil {
		return err
	}
	if c.BucketSizeMillis > 0 && c.TimeWindowMillis > 0 && c.BucketSizeMillis > c.TimeWindowMillis {
		return p.fail(e.key, place, fmt.Sprintf("bucketSizeInMillis %d is larger than timeWindowInMillis %d", c.BucketSizeMillis, c.TimeWindowMillis), "a bucket is a slice of the rolling window; make it smaller than the window")
	}
	return nil
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
