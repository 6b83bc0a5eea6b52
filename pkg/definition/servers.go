package definition

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// OpenAPI 3 lets a path item or an operation carry its own servers, which
// override the document's for those operations (Stripe serves file uploads
// from another host that way). They become the operation's production
// endpoints, unless an x-wso2-production-endpoints extension applies to it:
// its own, or the API's, which replaces servers at every level.

// serverUse collects what the servers of path items and operations did.
type serverUse struct {
	// apiExt is set when the API has x-wso2-production-endpoints.
	apiExt bool
	// ignored lists the places whose servers the API-level extension
	// overrides; first is the first such servers key.
	ignored []string
	first   *yaml.Node
	// warned holds the servers keys already warned about.
	warned map[*yaml.Node]bool
}

// operationServers returns the endpoints that an operation's own servers,
// or else its path item's, give it; nil when it has none that apply.
func (p *parser) operationServers(u *serverUse, op *openapi3.Operation, item *openapi3.PathItem, opNode, itemNode *yaml.Node, place string) *spec.Endpoints {
	var servers openapi3.Servers
	var at *yaml.Node
	switch {
	case op.Servers != nil && len(*op.Servers) > 0:
		servers, at = *op.Servers, get(opNode, "servers").key
	case len(item.Servers) > 0:
		servers, at = item.Servers, get(itemNode, "servers").key
	default:
		return nil
	}
	if u.apiExt {
		if u.first == nil {
			u.first = at
		}
		u.ignored = append(u.ignored, place)
		return nil
	}
	eps, skipped := serverEndpoints(servers)
	if len(skipped) > 0 && !u.warned[at] {
		if u.warned == nil {
			u.warned = map[*yaml.Node]bool{}
		}
		u.warned[at] = true
		then := "the other servers listed there serve it"
		if eps == nil {
			then = "the document's servers serve it"
		}
		p.warn(at, "%s: %s not an absolute http(s) URL, so not an endpoint; %s: write the full URL (https://host/path) to route there", place, quoteList(skipped, "server"), then)
	}
	return eps
}

// warnIgnored gives the servers the API-level extension overrides one warning.
func (u *serverUse) warnIgnored(p *parser) {
	if len(u.ignored) == 0 {
		return
	}
	p.warn(u.first, "servers of %s %s not used: %s at API level serves every operation without its own; move the URLs into %s of the operation to route there",
		shortList(u.ignored, 5), pluralVerb(len(u.ignored)), extProduction, extProduction)
}

// documentServers returns the document's servers as the API's production
// endpoints, warning about those that cannot be.
func (p *parser) documentServers(doc *openapi3.T) *spec.Endpoints {
	eps, skipped := serverEndpoints(doc.Servers)
	if eps != nil && len(skipped) > 0 {
		p.warn(get(p.root, "servers").key, "API level: %s not an absolute http(s) URL, so not an endpoint; the other servers serve the API", quoteList(skipped, "server"))
	}
	return eps
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

// quoteList writes "server \"a\" is" or "servers \"a\", \"b\" are".
func quoteList(items []string, noun string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	if len(items) == 1 {
		return noun + " " + q[0] + " is"
	}
	return noun + "s " + strings.Join(q, ", ") + " are"
}

// shortList joins at most max items and says how many more there are.
func shortList(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:max], ", "), len(items)-max)
}

func pluralVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
