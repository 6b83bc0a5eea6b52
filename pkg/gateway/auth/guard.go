package auth

import (
	"bytes"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Verifiers are the credential checkers the gateway was configured with.
// A nil one means that kind of credential cannot be checked: a requirement
// needing it fails closed (fault.AuthUnavailable); the gateway refuses to
// start in that case (gateway.checkAuth), so it is only seen by tests and by the
// build's route-table check.
type Verifiers struct {
	// Tokens verifies bearer JWTs and API keys written as JWTs.
	Tokens TokenVerifier
	// APIKeys looks up opaque API keys (stored in etcd).
	APIKeys APIKeyStore
	// Basic checks basic-auth users (the htpasswd file).
	Basic BasicStore
	// Revoked lists revoked token ids (stored in etcd).
	Revoked Revocations
	// KeepCredentials sends the credential header or API key parameter on
	// to the backend; by default it is removed, as micro-gw 3.x did.
	KeepCredentials bool
}

// Guard decides who may call one resource. Compile it once per route;
// Check runs per request.
type Guard struct {
	// open lets every request through: no credential and no client
	// certificate is required.
	open bool
	// noCredentials says the resource asks for no credential
	// (x-wso2-disable-security); mandatory mutual TLS still applies.
	noCredentials bool
	optional      bool
	// mutualRequired is x-wso2-mutual-ssl: mandatory. Optional asks
	// nothing of the request: the HTTPS listener verifies a client
	// certificate whenever one is given (--client-ca).
	mutualRequired bool
	authHeader     string
	alts           [][]requirement
	api            string
	apiVersion     string
	v              *Verifiers
	// challenge is the WWW-Authenticate value of a 401.
	challenge string
}

type requirement struct {
	// loc is where the credential is read (location).
	loc    string
	kind   string
	in     string
	name   string
	scopes []string
}

// Compile builds the guard of a resource whose effective security is sec,
// in api. v may be nil (nothing configured).
func Compile(sec *spec.Security, api *spec.API, v *Verifiers) *Guard {
	if v == nil {
		v = &Verifiers{}
	}
	g := &Guard{open: sec.Disabled && sec.MutualSSL != spec.MutualSSLMandatory, noCredentials: sec.Disabled, optional: sec.Optional, mutualRequired: sec.MutualSSL == spec.MutualSSLMandatory, authHeader: sec.AuthHeader,
		api: api.Title, apiVersion: api.Version, v: v}
	if g.authHeader == "" {
		g.authHeader = spec.DefaultAuthHeader
	}
	var schemes []string
	for _, alt := range sec.Alternatives {
		reqs := make([]requirement, 0, len(alt))
		for _, r := range alt {
			req := requirement{kind: r.Kind, in: r.In, name: r.Name, scopes: r.Scopes}
			req.loc = location(req, g.authHeader)
			reqs = append(reqs, req)
			switch r.Kind {
			case spec.KindOAuth2:
				schemes = appendOnce(schemes, `Bearer realm="micro-gw"`)
			case spec.KindBasic:
				schemes = appendOnce(schemes, `Basic realm="micro-gw"`)
			}
		}
		g.alts = append(g.alts, reqs)
	}
	g.challenge = strings.Join(schemes, ", ")
	return g
}

func appendOnce(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// Open reports whether the guard lets every request through.
func (g *Guard) Open() bool { return g.open }

// Check decides whether the request in ctx may pass. It returns the
// principal it was authenticated as (nil for an open resource, or an
// optional one called without credentials), or the fault to answer. On
// success the credentials are removed from the request unless the
// verifiers keep them.
func (g *Guard) Check(ctx *fasthttp.RequestCtx) (*Principal, *fault.Fault) {
	if g.open {
		return nil, nil
	}
	if g.mutualRequired && !VerifiedClientConn(ctx.Conn()) {
		return nil, fault.ClientCertRequired
	}
	if g.noCredentials {
		return nil, nil
	}
	var best attempt
	for i := range g.alts {
		a := g.tryAlternative(ctx, g.alts[i])
		if a.f == nil {
			g.strip(ctx, i)
			return a.p, nil
		}
		if a.rank > best.rank || best.f == nil {
			best = a
		}
	}
	if best.rank == rankMissing && g.optional {
		return nil, nil
	}
	if best.f == nil {
		return nil, fault.MissingCredentials
	}
	return nil, best.f
}

// authorize applies the checks on who the principal is, after its
// credentials were verified: revocation, subscription, the key's APIs.
func (g *Guard) authorize(p *Principal) *fault.Fault {
	if p.JTI != "" && g.v.Revoked != nil && g.v.Revoked.Revoked(p.JTI) {
		return fault.InvalidCredentials
	}
	if p.ValidateSubscription {
		if _, ok := p.Subscribed(g.api, g.apiVersion); !ok {
			return fault.NotSubscribed
		}
	}
	if !p.AllowsAPI(g.api) {
		return fault.NotSubscribed
	}
	return nil
}

// Ranks of a failed attempt: when every alternative fails, the answer is
// the fault of the one that got furthest. A credential that was presented
// and refused says more than one that is missing; a principal without the
// scope (403) more than a bad credential.
const (
	rankNone = iota
	rankMissing
	rankScheme
	rankUnavailable
	rankInvalid
	rankForbidden
)

type attempt struct {
	p    *Principal
	f    *fault.Fault
	rank int
}

// tryAlternative checks every requirement of one alternative (AND), and
// who each credential's principal is (revocation, subscription, the key's
// APIs): every credential of the alternative must pass, not only the
// first. The principal returned is the first requirement's; credentials
// of different key types (PRODUCTION and SANDBOX) are refused together.
func (g *Guard) tryAlternative(ctx *fasthttp.RequestCtx, reqs []requirement) attempt {
	var first *Principal
	for i := range reqs {
		a := g.tryRequirement(ctx, &reqs[i])
		if a.f != nil {
			return a
		}
		if a.p == nil {
			continue
		}
		if f := g.authorize(a.p); f != nil {
			rank := rankInvalid
			if f.Status == fasthttp.StatusForbidden {
				rank = rankForbidden
			}
			return attempt{f: f, rank: rank}
		}
		switch {
		case first == nil:
			first = a.p
		case first.KeyType != a.p.KeyType:
			return attempt{f: fault.InvalidCredentials, rank: rankInvalid}
		}
	}
	return attempt{p: first}
}

func (g *Guard) tryRequirement(ctx *fasthttp.RequestCtx, r *requirement) attempt {
	switch r.kind {
	case spec.KindOAuth2:
		return g.bearer(ctx, r)
	case spec.KindBasic:
		return g.basic(ctx)
	case spec.KindAPIKey:
		return g.apiKey(ctx, r)
	}
	return attempt{f: fault.InvalidCredentials, rank: rankInvalid}
}

var (
	bearerPrefix = []byte("bearer ")
	basicPrefix  = []byte("basic ")
)

// hasScheme reports whether v starts with the authentication scheme
// prefix (lower-case, with its space), in any case.
func hasScheme(v, prefix []byte) bool {
	return len(v) > len(prefix) && bytes.EqualFold(v[:len(prefix)], prefix)
}

func (g *Guard) bearer(ctx *fasthttp.RequestCtx, r *requirement) attempt {
	v := ctx.Request.Header.Peek(g.authHeader)
	if len(v) == 0 {
		return attempt{f: fault.MissingCredentials, rank: rankMissing}
	}
	if !hasScheme(v, bearerPrefix) {
		return attempt{f: fault.InvalidScheme, rank: rankScheme}
	}
	token := bytes.TrimSpace(v[len(bearerPrefix):])
	a := g.token(token)
	if a.f != nil {
		return a
	}
	for _, s := range r.scopes {
		if !a.p.HasScope(s) {
			return attempt{f: fault.ScopeMissing, rank: rankForbidden}
		}
	}
	return a
}

// token verifies a JWT.
func (g *Guard) token(token []byte) attempt {
	if g.v.Tokens == nil {
		return attempt{f: fault.AuthUnavailable, rank: rankUnavailable}
	}
	p, f := g.v.Tokens.Verify(token)
	if f != nil {
		rank := rankInvalid
		if f == fault.AuthUnavailable {
			rank = rankUnavailable
		}
		return attempt{f: f, rank: rank}
	}
	return attempt{p: p}
}

func (g *Guard) basic(ctx *fasthttp.RequestCtx) attempt {
	v := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	if len(v) == 0 {
		return attempt{f: fault.MissingCredentials, rank: rankMissing}
	}
	if !hasScheme(v, basicPrefix) {
		return attempt{f: fault.InvalidScheme, rank: rankScheme}
	}
	buf := basicBufs.Get().(*[256]byte)
	defer putBasicBuf(buf)
	user, pass, ok := ParseBasic(v, buf[:0])
	if !ok {
		return attempt{f: fault.BasicMalformed, rank: rankInvalid}
	}
	if g.v.Basic == nil {
		return attempt{f: fault.AuthUnavailable, rank: rankUnavailable}
	}
	p, ok := g.v.Basic.CheckBasic(user, pass)
	if !ok {
		return attempt{f: fault.BasicInvalid, rank: rankInvalid}
	}
	return attempt{p: p}
}

// basicBufs are the buffers basic credentials are decoded into. A buffer
// on the stack would escape through the BasicStore interface call and cost
// an allocation per request.
var basicBufs = sync.Pool{New: func() any { return new([256]byte) }}

// putBasicBuf clears a decoded password from buf and returns it to the pool.
func putBasicBuf(buf *[256]byte) {
	clear(buf[:])
	basicBufs.Put(buf)
}

// apiKey reads the key from its header or query parameter: a JWT (two
// dots) is verified as a token, any other value looked up in the store.
// A key sent elsewhere than the scheme says is not seen.
func (g *Guard) apiKey(ctx *fasthttp.RequestCtx, r *requirement) attempt {
	var key []byte
	if r.in == spec.InQuery {
		key = ctx.QueryArgs().Peek(r.name)
	} else {
		key = ctx.Request.Header.Peek(r.name)
	}
	if len(key) == 0 {
		return attempt{f: fault.MissingCredentials, rank: rankMissing}
	}
	if bytes.Count(key, []byte{'.'}) == 2 {
		return g.token(key)
	}
	if g.v.APIKeys == nil {
		// No key store (no etcd): an opaque key cannot be valid here.
		return attempt{f: fault.InvalidCredentials, rank: rankInvalid}
	}
	p, ok := g.v.APIKeys.LookupKey(key)
	if !ok {
		return attempt{f: fault.InvalidCredentials, rank: rankInvalid}
	}
	return attempt{p: p}
}

// methodOverrides are the headers some backends read to act as another
// method than the request's: a GET allowed by a read scope must not reach
// them as a DELETE.
var methodOverrides = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// strip removes, from a request that passed with alternative passed, every
// credential location any alternative of the resource names: a credential
// the gateway did not verify (a forged token beside a valid API key) never
// reaches the backend. With KeepCredentials, the verified alternative's
// own stay. It also removes the method-override headers.
func (g *Guard) strip(ctx *fasthttp.RequestCtx, passed int) {
	h := &ctx.Request.Header
	for _, m := range methodOverrides {
		h.Del(m)
	}
	queryChanged := false
	for _, alt := range g.alts {
		for _, r := range alt {
			if g.v.KeepCredentials && g.usedBy(passed, r) {
				continue
			}
			switch {
			case r.kind == spec.KindOAuth2:
				h.Del(g.authHeader)
			case r.kind == spec.KindBasic:
				h.Del(fasthttp.HeaderAuthorization)
			case r.in == spec.InQuery:
				if ctx.QueryArgs().Has(r.name) {
					ctx.QueryArgs().Del(r.name)
					queryChanged = true
				}
			default:
				h.Del(r.name)
			}
		}
	}
	if queryChanged {
		var buf [512]byte
		ctx.Request.URI().SetQueryStringBytes(ctx.QueryArgs().AppendBytes(buf[:0]))
	}
}

// usedBy reports whether alternative alt reads its credential where r does.
func (g *Guard) usedBy(alt int, r requirement) bool {
	for _, u := range g.alts[alt] {
		if u.loc == r.loc {
			return true
		}
	}
	return false
}

// location names where a requirement's credential is read, a header or a
// query parameter, once at Compile.
func location(r requirement, authHeader string) string {
	switch {
	case r.kind == spec.KindOAuth2:
		return "h:" + strings.ToLower(authHeader)
	case r.kind == spec.KindBasic:
		return "h:authorization"
	case r.in == spec.InQuery:
		return "q:" + r.name
	}
	return "h:" + strings.ToLower(r.name)
}

// Challenge is the WWW-Authenticate value for the guard's 401 answers:
// the schemes it accepts ("" when none applies, as for API keys alone).
func (g *Guard) Challenge() string { return g.challenge }
