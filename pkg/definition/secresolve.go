package definition

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Every operation gets its effective security (spec.Security) here, as
// micro-gw 3.x decided it: x-wso2-disable-security serves it open;
// x-wso2-application-security picks the kinds of credential; OpenAPI
// security names the schemes and scopes; with none of them an OAuth2
// bearer token is required. A definition is never built into an open
// operation it did not ask for: a scheme the gateway cannot enforce is an
// error, and an empty security list keeps the default.

// The x-wso2-* extensions about who may call, and the throttling tier.
const (
	extDisableSecurity = "x-wso2-disable-security"
	extAppSecurity     = "x-wso2-application-security"
	extAuthHeader      = "x-wso2-auth-header"
	extMutualSSL       = "x-wso2-mutual-ssl"
	extThrottlingTier  = "x-wso2-throttling-tier"
)

// Security types of x-wso2-application-security, in micro-gw 3.x's words.
const (
	appOAuth2 = "oauth2"
	appBasic  = "basic_auth"
	appAPIKey = "api_key"
)

var appTypes = []string{appOAuth2, appBasic, appAPIKey}

// secExts are the security extensions written at one level (the API, or
// the operation being read).
type secExts struct {
	disable *bool
	// disableAt is the x-wso2-disable-security key.
	disableAt  *yaml.Node
	app        *appSecurity
	authHeader string
}

// over returns x with what o says in its place (o is the operation's).
func (x secExts) over(o secExts) secExts {
	if o.disable != nil {
		x.disable, x.disableAt = o.disable, o.disableAt
	}
	if o.app != nil {
		x.app = o.app
	}
	if o.authHeader != "" {
		x.authHeader = o.authHeader
	}
	return x
}

// appSecurity is one x-wso2-application-security.
type appSecurity struct {
	types []string
	// at is its security-types key, where errors about the types point.
	at       *yaml.Node
	place    string
	optional bool
}

// scheme is one defined security scheme, mapped to the credential the
// gateway checks.
type scheme struct {
	kind, in, name string
	// bad says why the gateway cannot enforce it; it is reported the first
	// time an operation needs it.
	bad      *Error
	reported bool
}

// secState is what resolving security needs while the operations of one
// definition are read.
type secState struct {
	schemes map[string]*scheme
	// order holds the scheme names as defined.
	order   []string
	api, op secExts
	// mutualSSL is x-wso2-mutual-ssl, which applies to the whole API.
	mutualSSL string
	// once holds the nodes already warned or failed about, so that a list
	// or an extension shared by many operations is reported once.
	once map[*yaml.Node]bool
}

// first reports whether n is seen for the first time.
func (s *secState) first(n *yaml.Node) bool {
	if s.once == nil {
		s.once = map[*yaml.Node]bool{}
	}
	if s.once[n] {
		return false
	}
	s.once[n] = true
	return true
}

// securityExtension is an extension read at API level and in operations
// into the secExts of that level.
func securityExtension(name string, read func(p *parser, e pair, x *secExts, place string) error) extension {
	return extension{name: name,
		api: func(p *parser, e pair, _ *loadedAPI, _ *openapi3.T) error { return read(p, e, &p.sec.api, apiLevel) },
		op:  func(p *parser, e pair, _ *spec.Resource, place string) error { return read(p, e, &p.sec.op, place) },
	}
}

// readDisableSecurity reads x-wso2-disable-security: true or false.
func readDisableSecurity(p *parser, e pair, x *secExts, place string) error {
	v, err := p.boolean(e, place)
	if err != nil {
		return err
	}
	x.disable, x.disableAt = &v, e.key
	return nil
}

// readAppSecurity reads x-wso2-application-security: {security-types, optional}.
func readAppSecurity(p *parser, e pair, x *secExts, place string) error {
	a := &appSecurity{at: e.key, place: place}
	seen := false
	err := p.readObject(e, place, "{security-types: [oauth2, api_key], optional: false}",
		field{"security-types", func(kv pair) error {
			seen, a.at = true, kv.key
			list, err := p.stringList(kv, place)
			if err != nil {
				return err
			}
			for i, t := range list {
				t = strings.ToLower(strings.TrimSpace(t))
				if !slices.Contains(appTypes, t) {
					return p.fail(deref(kv.val.Content[i]), place, fmt.Sprintf("%s: security type %q is not one of %s", extAppSecurity, list[i], strings.Join(appTypes, ", ")),
						"write e.g. security-types: [oauth2, api_key]")
				}
				if !slices.Contains(a.types, t) {
					a.types = append(a.types, t)
				}
			}
			return nil
		}},
		field{"optional", func(kv pair) (err error) { a.optional, err = p.boolean(kv, place); return err }},
	)
	if err != nil {
		return err
	}
	if !seen || len(a.types) == 0 {
		return p.fail(a.at, place, extAppSecurity+" lists no security-types, so it says nothing about who may call",
			"list one or more of "+strings.Join(appTypes, ", ")+", e.g. security-types: [oauth2]")
	}
	x.app = a
	return nil
}

// readAuthHeader reads x-wso2-auth-header: the header a bearer token is read from.
func readAuthHeader(p *parser, e pair, x *secExts, place string) error {
	v := e.val.Value
	if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!str" || !isHeaderToken(v) {
		return p.fail(e.val, place, fmt.Sprintf("%s must be an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~), got %q", extAuthHeader, v),
			"write e.g. "+extAuthHeader+": X-Auth-Token")
	}
	x.authHeader = v
	return nil
}

// isHeaderToken reports whether s is an HTTP field name (RFC 9110 token).
func isHeaderToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// readMutualSSL reads x-wso2-mutual-ssl: mandatory or optional.
func readMutualSSL(p *parser, e pair, _ *loadedAPI, _ *openapi3.T) error {
	v := strings.ToLower(strings.TrimSpace(e.val.Value))
	if e.val.Kind != yaml.ScalarNode || (v != spec.MutualSSLMandatory && v != spec.MutualSSLOptional) {
		return p.fail(e.val, apiLevel, fmt.Sprintf("%s must be %s or %s, got %q", extMutualSSL, spec.MutualSSLMandatory, spec.MutualSSLOptional, e.val.Value),
			"write "+extMutualSSL+": mandatory to require a client certificate, or optional to check one when given")
	}
	p.sec.mutualSSL = v
	return nil
}

// tierUse is one x-wso2-throttling-tier, with where it is written for the
// error when no policy defines it.
type tierUse struct {
	name string
	at   *Error
}

// throttlingTier reads x-wso2-throttling-tier: the name of a resource
// policy of policies.yaml, checked when the policies are known
// (Result.CheckTiers).
func (p *parser) throttlingTier(e pair, place string) (string, error) {
	v := strings.TrimSpace(e.val.Value)
	if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() == "!!null" || v == "" {
		return "", p.fail(e.key, place, extThrottlingTier+" must name a policy, got "+kindName(e.val),
			"write e.g. "+extThrottlingTier+": 10kPerMin, a resourcePolicies entry of policies.yaml")
	}
	p.tiers = append(p.tiers, tierUse{name: v, at: p.fail(e.val, place, "", "")})
	return v, nil
}

// readSchemes maps the defined security schemes: components.securitySchemes
// (securityDefinitions in Swagger 2.0).
func (p *parser) readSchemes() {
	p.sec.schemes = map[string]*scheme{}
	defs := lookup(p.root, "components", "securitySchemes")
	if p.swagger {
		defs = get(p.root, "securityDefinitions").val
	}
	for _, kv := range pairs(defs) {
		name := kv.key.Value
		if _, dup := p.sec.schemes[name]; dup {
			continue
		}
		p.sec.schemes[name] = p.mapScheme(name, kv.key, p.followRef(kv.val))
		p.sec.order = append(p.sec.order, name)
	}
}

// mapScheme maps one scheme definition n, named name at key, to the
// credential the gateway checks, or says why it cannot.
func (p *parser) mapScheme(name string, key, n *yaml.Node) *scheme {
	typ := get(n, "type")
	at := key
	if typ.key != nil {
		at = typ.val
	}
	bad := func(at *yaml.Node, msg, hint string) *scheme {
		return &scheme{bad: p.fail(at, "", fmt.Sprintf("security scheme %q %s", name, msg), hint)}
	}
	switch t := typ.val; {
	case t == nil:
		return bad(key, "has no type", "give it a type: oauth2, openIdConnect, apiKey or http")
	case t.Value == "oauth2" || t.Value == "openIdConnect":
		return &scheme{kind: spec.KindOAuth2}
	case t.Value == "basic" && p.swagger:
		return &scheme{kind: spec.KindBasic}
	case t.Value == "http":
		s := get(n, "scheme")
		switch v := strings.ToLower(s.val.Value); {
		case s.val == nil:
			return bad(at, "(type http) has no scheme", "write scheme: basic or scheme: bearer")
		case v == "bearer":
			return &scheme{kind: spec.KindOAuth2}
		case v == "basic":
			return &scheme{kind: spec.KindBasic}
		default:
			return bad(s.val, fmt.Sprintf("uses the http scheme %q, which is not supported; use basic or bearer", s.val.Value),
				"change the scheme, or serve the operations open with x-wso2-disable-security: true")
		}
	case t.Value == "apiKey":
		in, kname := get(n, "in"), get(n, "name")
		switch v := in.val; {
		case v == nil || (v.Value != spec.InHeader && v.Value != spec.InQuery && v.Value != "cookie"):
			return bad(at, "(type apiKey) says neither in: header nor in: query", "write in: header (or query) and the name of the header or parameter")
		case v.Value == "cookie":
			return bad(v, "sends the API key in a cookie, which is not supported", "send it in a header or a query parameter: in: header")
		case kname.val == nil || kname.val.Kind != yaml.ScalarNode || strings.TrimSpace(kname.val.Value) == "":
			return bad(at, "(type apiKey) has no name", "write the name of the "+v.Value+" that carries the key, e.g. name: X-API-Key")
		case v.Value == spec.InHeader && !isHeaderToken(kname.val.Value):
			return bad(kname.val, fmt.Sprintf("names the header %q, which is not an HTTP header name", kname.val.Value), "write e.g. name: X-API-Key")
		default:
			return &scheme{kind: spec.KindAPIKey, in: v.Value, name: kname.val.Value}
		}
	default:
		return bad(t, fmt.Sprintf("has type %q, which is not supported", t.Value),
			"use oauth2, openIdConnect, apiKey, or http with scheme basic or bearer (x-wso2-mutual-ssl for client certificates)")
	}
}

// namedReq is one scheme named in a security requirement, with its scopes.
type namedReq struct {
	name   string
	scopes []string
	at     *yaml.Node
}

// readSecurityList reads a security requirement list: its alternatives,
// each a list of schemes, and the empty list or empty alternative, if
// any. It reads the string forms older tools wrote too, as lenient does.
func readSecurityList(list *yaml.Node) (alts [][]namedReq, empty *yaml.Node) {
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, nil
	}
	if len(list.Content) == 0 {
		return nil, list
	}
	for _, item := range list.Content {
		item = deref(item)
		var alt []namedReq
		switch item.Kind {
		case yaml.MappingNode:
			for _, kv := range pairs(item) {
				alt = append(alt, namedReq{kv.key.Value, scopesOf(kv.val), kv.key})
			}
		case yaml.ScalarNode:
			if item.ShortTag() == "!!str" {
				if name, scopes := parseLegacyRequirement(item.Value); name != "" {
					alt = append(alt, namedReq{name, nonEmpty(scopes), item})
				}
			}
		}
		if len(alt) == 0 {
			if item.Kind == yaml.MappingNode && empty == nil {
				empty = item
			}
			continue
		}
		alts = append(alts, alt)
	}
	return alts, empty
}

// scopesOf reads the scopes of a requirement: a list, or a scalar read as
// a list of one (lenient warns about it).
func scopesOf(n *yaml.Node) []string {
	var out []string
	switch {
	case n == nil:
	case n.Kind == yaml.SequenceNode:
		for _, it := range n.Content {
			if it = deref(it); it.Kind == yaml.ScalarNode && it.ShortTag() != "!!null" {
				out = append(out, it.Value)
			}
		}
	case n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" && n.Value != "":
		out = []string{n.Value}
	}
	return out
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// resolveSecurity works out the security of the operation op at place,
// after readOperation read its extensions into p.sec.op.
func (p *parser) resolveSecurity(op *yaml.Node, place string) *spec.Security {
	x := p.sec.api.over(p.sec.op)
	var s *spec.Security
	if x.disable != nil && *x.disable {
		s = &spec.Security{Disabled: true}
		// An operation that disables security under an API-level
		// x-wso2-application-security says so plainly; the other way
		// round the user may expect the application security to apply.
		overridden := p.sec.op.disable != nil && p.sec.op.app == nil
		if x.app != nil && !overridden && p.sec.first(x.app.at) {
			p.warn(x.app.at, "%s: %s is not applied: x-wso2-disable-security: true (line %d) serves the operation open; write x-wso2-disable-security: false next to it to apply it",
				x.app.place, extAppSecurity, lineOf(x.disableAt))
		}
		p.warnSecurityNotApplied(op, place, x.disableAt)
	} else {
		alts := p.openAPISecurity(op, place)
		if x.app != nil {
			alts = p.applicationSecurity(x.app, alts)
		}
		if len(alts) == 0 {
			s = spec.DefaultSecurity()
		} else {
			s = &spec.Security{Alternatives: alts}
		}
		s.Optional = x.app != nil && x.app.optional
		s.AuthHeader = x.authHeader
		p.warnSharedAuthorization(s, op, place)
	}
	s.MutualSSL = p.sec.mutualSSL
	return s
}

// warnSharedAuthorization warns about an alternative that requires a
// bearer token and basic auth together while both are read from the
// Authorization header: one header holds one credential, so no request can
// pass it.
func (p *parser) warnSharedAuthorization(s *spec.Security, op *yaml.Node, place string) {
	if s.AuthHeader != "" && !strings.EqualFold(s.AuthHeader, spec.DefaultAuthHeader) {
		return
	}
	for _, alt := range s.Alternatives {
		var bearer, basic bool
		for _, r := range alt {
			bearer = bearer || r.Kind == spec.KindOAuth2
			basic = basic || r.Kind == spec.KindBasic
		}
		if bearer && basic {
			at := get(op, "security").key
			if at == nil {
				at = get(p.root, "security").key
			}
			if at == nil || p.sec.first(at) {
				p.warn(at, "%s: a security requirement asks for a bearer token and basic auth together, but both are read from the Authorization header, so no request can pass it; make them alternatives (separate entries), or name another header for the token with x-wso2-auth-header", place)
			}
			return
		}
	}
}

// warnSecurityNotApplied warns, once per security list, that an OpenAPI
// security list does not apply to op because x-wso2-disable-security: true
// (at disableAt) serves it open: the operation's own list, or the
// document's when the API itself disables security. The document's list
// under an operation's own x-wso2-disable-security is the usual way to
// open one operation of a secured API, and is not warned.
func (p *parser) warnSecurityNotApplied(op *yaml.Node, place string, disableAt *yaml.Node) {
	e, prefix := get(op, "security"), place+": "
	if e.key == nil {
		if p.sec.op.disable != nil {
			return
		}
		e, prefix = get(p.root, "security"), ""
	}
	if e.key != nil && p.sec.first(e.key) {
		p.warn(e.key, "%ssecurity is not applied: x-wso2-disable-security: true (line %d) serves the operation open; remove one of them",
			prefix, lineOf(disableAt))
	}
}

// openAPISecurity returns the alternatives of the OpenAPI security that
// applies to op: its own list, else the document's.
func (p *parser) openAPISecurity(op *yaml.Node, place string) [][]spec.Requirement {
	e, prefix := get(op, "security"), place+": "
	if e.key == nil {
		e, prefix = get(p.root, "security"), ""
	}
	named, empty := readSecurityList(e.val)
	if empty != nil && p.sec.first(empty) {
		p.warn(empty, "%san empty security requirement does not serve the operation open in micro-gw; use x-wso2-disable-security: true (it is ignored, so the other requirements or the default OAuth2 token apply)", prefix)
	}
	var alts [][]spec.Requirement
	for _, alt := range named {
		var reqs []spec.Requirement
		for _, r := range alt {
			reqs = append(reqs, p.requirement(r, prefix))
		}
		alts = append(alts, reqs)
	}
	return alts
}

// requirement maps one named scheme to what the gateway checks. A scheme
// that is not defined is read as OAuth2, as micro-gw 3.x did.
func (p *parser) requirement(r namedReq, prefix string) spec.Requirement {
	s, ok := p.sec.schemes[r.name]
	if !ok {
		if p.sec.first(r.at) {
			hint := "define it under components.securitySchemes"
			if p.swagger {
				hint = "define it under securityDefinitions"
			}
			p.warn(r.at, "%ssecurity scheme %q is not defined; it is treated as oauth2 (micro-gw 3.x treated security as OAuth2), so an OAuth2 bearer token%s is required; %s",
				prefix, r.name, scopesNote(r.scopes), hint)
		}
		return spec.Requirement{Scheme: r.name, Kind: spec.KindOAuth2, Scopes: r.scopes}
	}
	if s.bad != nil && !s.reported {
		s.reported = true
		p.collect(s.bad)
	}
	req := spec.Requirement{Scheme: r.name, Kind: s.kind, In: s.in, Name: s.name}
	if s.kind == spec.KindOAuth2 {
		req.Scopes = r.scopes
	} else if len(r.scopes) > 0 && p.sec.first(r.at) {
		p.warn(r.at, "%ssecurity scheme %q is %s, for which the gateway checks no scopes or roles, so %s is not enforced; remove the list, or require the scopes with an oauth2 scheme",
			prefix, r.name, s.kind, strings.Join(r.scopes, ", "))
	}
	return req
}

func scopesNote(scopes []string) string {
	if len(scopes) == 0 {
		return ""
	}
	return " with scopes " + strings.Join(scopes, ", ")
}

// applicationSecurity returns the alternatives x-wso2-application-security
// a asks for, one per security type, taking the scopes and API key
// schemes from the OpenAPI security declared (declared).
func (p *parser) applicationSecurity(a *appSecurity, declared [][]spec.Requirement) [][]spec.Requirement {
	var alts [][]spec.Requirement
	of := func(kind string) []spec.Requirement {
		var out []spec.Requirement
		for _, alt := range declared {
			for _, r := range alt {
				if r.Kind == kind && !slices.ContainsFunc(out, func(o spec.Requirement) bool { return o.Scheme == r.Scheme }) {
					out = append(out, r)
				}
			}
		}
		return out
	}
	for _, t := range a.types {
		switch t {
		case appOAuth2:
			alts = append(alts, []spec.Requirement{oauth2Union(declared)})
		case appBasic:
			req := spec.Requirement{Scheme: appBasic, Kind: spec.KindBasic}
			if b := of(spec.KindBasic); len(b) > 0 {
				req.Scheme = b[0].Scheme
			}
			alts = append(alts, []spec.Requirement{req})
		case appAPIKey:
			keys := of(spec.KindAPIKey)
			if len(keys) == 0 {
				keys = p.definedAPIKeys()
			}
			if len(keys) == 0 {
				if p.sec.first(a.at) {
					where := "components.securitySchemes, e.g. api_key: {type: apiKey, in: header, name: X-API-Key}"
					if p.swagger {
						where = "securityDefinitions, e.g. api_key: {type: apiKey, in: header, name: X-API-Key}"
					}
					p.collect(p.fail(a.at, a.place, extAppSecurity+" lists api_key, but the definition defines no apiKey security scheme to say where the key is sent",
						"define an apiKey security scheme under "+where))
				}
				continue
			}
			for _, k := range keys {
				alts = append(alts, []spec.Requirement{k})
			}
		}
	}
	return alts
}

// definedAPIKeys returns a requirement for every usable apiKey scheme the
// definition defines, in the order defined.
func (p *parser) definedAPIKeys() []spec.Requirement {
	var out []spec.Requirement
	for _, name := range p.sec.order {
		if s := p.sec.schemes[name]; s.kind == spec.KindAPIKey {
			out = append(out, spec.Requirement{Scheme: name, Kind: s.kind, In: s.in, Name: s.name})
		}
	}
	return out
}

// oauth2Union is one OAuth2 requirement with the scopes of every OAuth2
// requirement of declared, named after the first.
func oauth2Union(declared [][]spec.Requirement) spec.Requirement {
	req := spec.Requirement{Scheme: appOAuth2, Kind: spec.KindOAuth2}
	first := true
	for _, alt := range declared {
		for _, r := range alt {
			if r.Kind != spec.KindOAuth2 {
				continue
			}
			if first {
				req.Scheme, first = r.Scheme, false
			}
			for _, sc := range r.Scopes {
				if !slices.Contains(req.Scopes, sc) {
					req.Scopes = append(req.Scopes, sc)
				}
			}
		}
	}
	return req
}
