package proxy

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/micro-gw/micro-gw/internal/jwktest"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/jwt"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// guarded is a gateway serving shop with the real verifiers: JWTs from the
// JWKS server, the htpasswd users alice:wonderland, and revocations.
type guarded struct {
	url     string
	jwks    *jwktest.Server
	clock   *testClock
	revoked *revocations
	prod    string // the production backend's address (its echo says host=)
	sandbox string
}

func startGuarded(t *testing.T, withSandbox bool, keep bool, routes map[string]*spec.Security) *guarded {
	t.Helper()
	g := &guarded{jwks: jwktest.NewServer(t, allKeys(t)...), clock: newTestClock(), revoked: &revocations{}}
	prod := echo(t)
	g.prod = prod.Listener.Addr().String()
	sandboxURL := ""
	if withSandbox {
		sb := echo(t)
		g.sandbox, sandboxURL = sb.Listener.Addr().String(), sb.URL
	}
	v := &auth.Verifiers{
		Tokens:          verifier(t, g.jwks.URL, g.clock, jwt.Options{}),
		Basic:           basicStore(t, "alice", "wonderland"),
		Revoked:         g.revoked,
		KeepCredentials: keep,
	}
	g.url = startGateway(t, shop(prod.URL, sandboxURL, routes), Options{Auth: v}).url + "/shop"
	return g
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func basicHeader(user, pass string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

// TestEveryAuthFaultThroughTheProxy protects micro-gw 3.x's fault codes,
// statuses and RFC 6750/7235 challenges for each way a credential is
// refused, answered by the gateway and never by the backend.
func TestEveryAuthFaultThroughTheProxy(t *testing.T) {
	g := startGuarded(t, false, false, map[string]*spec.Security{
		"/bearer": anyOf(all(oauth2())),
		"/scoped": anyOf(all(oauth2("write:pets"))),
		"/basic":  anyOf(all(basicAuth())),
	})
	testKeys(t)
	rsaPub := x509PublicDER(t)
	for _, c := range []struct {
		name         string
		path         string
		header       []string
		status, code int
		challenge    string
	}{
		{"no credentials", "/bearer", nil, 401, 900902, `Bearer realm="micro-gw"`},
		{"bad signature", "/bearer", bearer(tamper(rsaToken(t))), 401, 900901, `Bearer realm="micro-gw"`},
		{"not a JWT", "/bearer", bearer("opaque-token"), 401, 900901, `Bearer`},
		{"basic on a bearer route", "/bearer", basicHeader("alice", "wonderland"), 401, 900917, `Bearer`},
		{"expired", "/bearer", bearer(rsaToken(t, "iat", issuedAt.Add(-2*time.Hour).Unix(), "exp", issuedAt.Add(-time.Hour).Unix())), 401, 900903, `Bearer`},
		{"scope missing", "/scoped", bearer(rsaToken(t)), 403, 900910, `Bearer realm="micro-gw", error="insufficient_scope"`},
		{"not subscribed", "/bearer", bearer(rsaToken(t, "iss", subIss, "aud", nil,
			"subscribedAPIs", []any{map[string]any{"name": "other", "version": apiVersion}})), 403, 900908, ""},
		{"sandbox token without sandbox endpoints", "/bearer", bearer(rsaToken(t, "keytype", auth.Sandbox)), 401, 900905, `Bearer`},
		{"basic wrong password", "/basic", basicHeader("alice", "rabbit"), 401, 900911, `Basic realm="micro-gw"`},
		{"basic unknown user", "/basic", basicHeader("bob", "wonderland"), 401, 900911, `Basic`},
		{"basic malformed", "/basic", []string{"Authorization", "Basic !!!not-base64"}, 401, 900912, `Basic`},
		{"basic without colon", "/basic", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))}, 401, 900912, `Basic`},
		{"alg none", "/bearer", bearer(unsignedToken(t, claims())), 401, 900901, `Bearer`},
		{"HS256 signed with the RSA public key", "/bearer", bearer(signed(t, jwtlib.SigningMethodHS256, rsaPub, "rsa", claims())), 401, 900901, `Bearer`},
		{"HS256 with the public key, no kid", "/bearer", bearer(signed(t, jwtlib.SigningMethodHS256, rsaPub, "", claims())), 401, 900901, `Bearer`},
		{"wrong iss", "/bearer", bearer(rsaToken(t, "iss", "https://evil.test/token")), 401, 900901, `Bearer`},
		{"wrong aud", "/bearer", bearer(rsaToken(t, "aud", "another-gateway")), 401, 900901, `Bearer`},
		{"no aud", "/bearer", bearer(rsaToken(t, "aud", nil)), 401, 900901, `Bearer`},
		{"RSA key's kid on an EC signature", "/bearer", bearer(signed(t, jwtlib.SigningMethodES256, ecKey, "rsa", claims())), 401, 900901, `Bearer`},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := callAuth(t, g.url+c.path, c.header...)
			a.mustFail(t, c.name, c.status, c.code)
			if !strings.HasPrefix(a.challenge, c.challenge) || (c.challenge == "" && a.challenge != "") {
				t.Errorf("WWW-Authenticate %q, want %q", a.challenge, c.challenge)
			}
		})
	}
	// And the credentials that pass, with each key type.
	for name, tok := range map[string]string{
		"RS256":      rsaToken(t),
		"ES256":      signed(t, jwtlib.SigningMethodES256, ecKey, "ec", claims()),
		"EdDSA":      signed(t, jwtlib.SigningMethodEdDSA, edKey, "ed", claims()),
		"subscribed": rsaToken(t, "iss", subIss, "aud", nil, "subscribedAPIs", []any{map[string]any{"name": apiTitle, "version": apiVersion}}),
	} {
		callAuth(t, g.url+"/bearer", bearer(tok)...).mustPass(t, name)
	}
	callAuth(t, g.url+"/scoped", bearer(rsaToken(t, "scope", "read:pets write:pets"))...).mustPass(t, "scope claim")
	callAuth(t, g.url+"/scoped", bearer(rsaToken(t, "scope", nil, "scp", []string{"write:pets"}))...).mustPass(t, "scp claim")
	callAuth(t, g.url+"/basic", basicHeader("alice", "wonderland")...).mustPass(t, "basic")
}

// TestTokenTimesAtTheSkewBoundariesThroughTheProxy protects the inclusive
// --jwt-clock-skew on exp and nbf, with the verifier's clock injected.
func TestTokenTimesAtTheSkewBoundariesThroughTheProxy(t *testing.T) {
	g := startGuarded(t, false, false, map[string]*spec.Security{"/bearer": anyOf(all(oauth2()))})
	exp, nbf := issuedAt.Add(time.Hour), issuedAt.Add(10*time.Minute)
	for _, c := range []struct {
		name string
		now  time.Time
		tok  string
		code int
	}{
		{"at exp+skew", exp.Add(clockSkew), rsaToken(t), 0},
		{"one second after exp+skew", exp.Add(clockSkew + time.Second), rsaToken(t), 900903},
		{"at nbf-skew", nbf.Add(-clockSkew), rsaToken(t, "nbf", nbf.Unix()), 0},
		{"one second before nbf-skew", nbf.Add(-clockSkew - time.Second), rsaToken(t, "nbf", nbf.Unix()), 900901},
	} {
		g.clock.Set(c.now)
		a := callAuth(t, g.url+"/bearer", bearer(c.tok)...)
		if c.code == 0 {
			a.mustPass(t, c.name)
		} else {
			a.mustFail(t, c.name, 401, c.code)
		}
	}
	// A token verified (and cached) while valid is refused once expired.
	g.clock.Set(issuedAt)
	tok := rsaToken(t)
	callAuth(t, g.url+"/bearer", bearer(tok)...).mustPass(t, "fresh token")
	g.clock.Set(exp.Add(clockSkew + time.Second))
	callAuth(t, g.url+"/bearer", bearer(tok)...).mustFail(t, "cached token after exp+skew", 401, 900903)
}

// TestRotatedKeyAndJWKSOutagesThroughTheProxy protects key rotation (a
// token signed by a key the issuer published after start is accepted) and
// the last good key set through an outage of the JWKS server.
func TestRotatedKeyAndJWKSOutagesThroughTheProxy(t *testing.T) {
	g := startGuarded(t, false, false, map[string]*spec.Security{"/bearer": anyOf(all(oauth2()))})
	testKeys(t)
	rotated := signed(t, jwtlib.SigningMethodES256, ecKey, "ec-2032", claims())
	callAuth(t, g.url+"/bearer", bearer(rotated)...).mustFail(t, "kid not yet published", 401, 900901)

	g.jwks.Set(t, append(allKeys(t), jwk(t, "ec-2032", &ecKey.PublicKey))...)
	// The unknown-kid refresh is rate limited (10 s by default) on the
	// injected clock: move past the gap.
	g.clock.Add(11 * time.Second)
	callAuth(t, g.url+"/bearer", bearer(rotated)...).mustPass(t, "kid published after rotation")

	// During an outage the last good keys still verify new tokens.
	g.jwks.Down.Store(true)
	g.clock.Add(11 * time.Second)
	callAuth(t, g.url+"/bearer", bearer(signed(t, jwtlib.SigningMethodEdDSA, edKey, "ed", claims()))...).mustPass(t, "JWKS down, known kid")
	callAuth(t, g.url+"/bearer", bearer(signed(t, jwtlib.SigningMethodES256, ecKey, "ec-2033", claims()))...).
		mustFail(t, "JWKS down, unknown kid", 401, 900901)
}

// TestJWKSDownAtStartFailsClosedWith900900 protects fail-closed start: until
// a first key set exists every token gets 401 900900 (never a pass, never a
// hang), then tokens pass once the JWKS server answers.
func TestJWKSDownAtStartFailsClosedWith900900(t *testing.T) {
	js := jwktest.NewServer(t, allKeys(t)...)
	js.Down.Store(true)
	clock := newTestClock()
	logs := &syncBuffer{}
	v := verifier(t, js.URL, clock, jwt.Options{StartTimeout: 100 * time.Millisecond, MinRefreshGap: time.Millisecond,
		Logger: slogTo(logs)})
	be := echo(t)
	gw := startGateway(t, shop(be.URL, "", map[string]*spec.Security{"/bearer": anyOf(all(oauth2()))}), Options{Auth: &auth.Verifiers{Tokens: v}})
	a := callAuth(t, gw.url+"/shop/bearer", bearer(rsaToken(t))...)
	a.mustFail(t, "no key set yet", 401, 900900)
	if !strings.HasPrefix(a.challenge, "Bearer") {
		t.Errorf("WWW-Authenticate %q", a.challenge)
	}
	if l := logs.String(); !strings.Contains(l, "no signing keys") {
		t.Errorf("no clear log line about the missing key set:\n%s", l)
	}
	js.Down.Store(false)
	clock.Add(time.Second)
	callAuth(t, gw.url+"/shop/bearer", bearer(rsaToken(t))...).mustPass(t, "JWKS up")
}

// TestCredentialInTheWrongPlaceIsNotSeen protects the scheme's location: a
// bearer token or API key sent as a query parameter where the scheme says
// header (and the other way round) is a missing credential.
func TestCredentialInTheWrongPlaceIsNotSeen(t *testing.T) {
	g := startGuarded(t, false, false, map[string]*spec.Security{
		"/bearer": anyOf(all(oauth2())),
		"/hkey":   anyOf(all(apiKeyIn(spec.InHeader, "X-API-Key"))),
		"/qkey":   anyOf(all(apiKeyIn(spec.InQuery, "api_key"))),
	})
	tok := rsaToken(t)
	callAuth(t, g.url+"/bearer?access_token="+tok).mustFail(t, "token as access_token", 401, 900902)
	callAuth(t, g.url+"/bearer?Authorization=Bearer+"+tok).mustFail(t, "token as Authorization param", 401, 900902)
	callAuth(t, g.url+"/hkey?X-API-Key="+tok).mustFail(t, "header key in query", 401, 900902)
	callAuth(t, g.url+"/qkey", "api_key", tok).mustFail(t, "query key in header", 401, 900902)
	callAuth(t, g.url+"/hkey", "X-API-Key", tok).mustPass(t, "header key as JWT")
	callAuth(t, g.url+"/qkey?api_key="+tok).mustPass(t, "query key as JWT")
}

// TestOrAndAndCombinations protects OpenAPI's rule: alternatives are OR,
// schemes within one are AND; a failing alternative's fault is the most
// telling one.
func TestOrAndAndCombinations(t *testing.T) {
	g := startGuarded(t, false, false, map[string]*spec.Security{
		"/or":  anyOf(all(oauth2()), all(apiKeyIn(spec.InHeader, "X-API-Key"))),
		"/and": anyOf(all(apiKeyIn(spec.InHeader, "X-API-Key"), basicAuth())),
	})
	tok := rsaToken(t)
	callAuth(t, g.url+"/or", bearer(tok)...).mustPass(t, "OR: bearer alone")
	callAuth(t, g.url+"/or", "X-API-Key", tok).mustPass(t, "OR: key alone")
	callAuth(t, g.url+"/or").mustFail(t, "OR: nothing", 401, 900902)
	callAuth(t, g.url+"/or", "X-API-Key", tamper(tok)).mustFail(t, "OR: bad key", 401, 900901)

	both := append(basicHeader("alice", "wonderland"), "X-API-Key", tok)
	callAuth(t, g.url+"/and", both...).mustPass(t, "AND: key and basic")
	callAuth(t, g.url+"/and", "X-API-Key", tok).mustFail(t, "AND: key without basic", 401, 900902)
	callAuth(t, g.url+"/and", basicHeader("alice", "wonderland")...).mustFail(t, "AND: basic without key", 401, 900902)
	callAuth(t, g.url+"/and", append(basicHeader("alice", "nope"), "X-API-Key", tok)...).mustFail(t, "AND: bad basic", 401, 900911)
}

// TestOptionalSecurityStillChecksAPresentedCredential protects
// x-wso2-application-security optional: true: no credential passes, a bad
// one does not.
func TestOptionalSecurityStillChecksAPresentedCredential(t *testing.T) {
	opt := anyOf(all(oauth2()))
	opt.Optional = true
	g := startGuarded(t, false, false, map[string]*spec.Security{"/opt": opt})
	callAuth(t, g.url+"/opt").mustPass(t, "no credential")
	callAuth(t, g.url+"/opt", bearer(rsaToken(t))...).mustPass(t, "good token")
	callAuth(t, g.url+"/opt", bearer(tamper(rsaToken(t)))...).mustFail(t, "bad token", 401, 900901)
	callAuth(t, g.url+"/opt", "Authorization", "Digest x").mustFail(t, "other scheme", 401, 900917)
}

// TestCustomAuthHeader protects x-wso2-auth-header: the token is read from
// that header only, and it is the one removed.
func TestCustomAuthHeader(t *testing.T) {
	sec := anyOf(all(oauth2()))
	sec.AuthHeader = "X-Token"
	g := startGuarded(t, false, false, map[string]*spec.Security{"/custom": sec})
	tok := rsaToken(t)
	callAuth(t, g.url+"/custom", bearer(tok)...).mustFail(t, "token in Authorization", 401, 900902)
	a := callAuth(t, g.url+"/custom", "X-Token", "Bearer "+tok, "Authorization", "Basic for-the-backend")
	a.mustPass(t, "token in X-Token")
	if a.header.Get("Got-X-Token") != "" || a.header.Get("Got-Authorization") != "Basic for-the-backend" {
		t.Errorf("backend got X-Token %q and Authorization %q; want the token removed and Authorization kept",
			a.header.Get("Got-X-Token"), a.header.Get("Got-Authorization"))
	}
}

// TestCredentialsRemovedBeforeTheBackend protects micro-gw 3.x's default
// (removeAuthHeaderFromOutMessage) and KeepCredentials: the bearer header,
// the basic header, and an API key header or query parameter do not reach
// the backend unless kept; other query parameters always do.
func TestCredentialsRemovedBeforeTheBackend(t *testing.T) {
	routes := map[string]*spec.Security{
		"/bearer": anyOf(all(oauth2())),
		"/basic":  anyOf(all(basicAuth())),
		"/hkey":   anyOf(all(apiKeyIn(spec.InHeader, "X-API-Key"))),
		"/qkey":   anyOf(all(apiKeyIn(spec.InQuery, "api_key"))),
	}
	for _, keep := range []bool{false, true} {
		g := startGuarded(t, false, keep, routes)
		tok := rsaToken(t)
		for _, c := range []struct {
			path   string
			header []string
			seen   func(a answer) bool
		}{
			{"/bearer?x=1", bearer(tok), func(a answer) bool { return a.header.Get("Got-Authorization") != "" }},
			{"/basic?x=1", basicHeader("alice", "wonderland"), func(a answer) bool { return a.header.Get("Got-Authorization") != "" }},
			{"/hkey?x=1", []string{"X-API-Key", tok}, func(a answer) bool { return a.header.Get("Got-X-Api-Key") != "" }},
			{"/qkey?a=1&api_key=" + tok + "&b=2", nil, func(a answer) bool { return strings.Contains(a.body, "api_key=") }},
		} {
			a := callAuth(t, g.url+c.path, c.header...)
			a.mustPass(t, c.path)
			if got := c.seen(a); got != keep {
				t.Errorf("keep=%v %s: the backend saw the credential: %v (%s)", keep, c.path, got, a.body)
			}
			if !strings.Contains(a.body, "x=1") && !strings.Contains(a.body, "a=1&b=2") && !(keep && strings.Contains(a.body, "a=1&api_key=")) {
				t.Errorf("keep=%v %s: other query parameters lost: %s", keep, c.path, a.body)
			}
		}
	}
}

// TestSandboxTokenReachesTheSandbox protects routing by key type: a
// SANDBOX token goes to the sandbox endpoints, a PRODUCTION one (or one
// without keytype) to production.
func TestSandboxTokenReachesTheSandbox(t *testing.T) {
	g := startGuarded(t, true, false, map[string]*spec.Security{"/bearer": anyOf(all(oauth2()))})
	for _, c := range []struct {
		name, host, path string
		tok              string
	}{
		{"SANDBOX", g.sandbox, "/sandbox/bearer", rsaToken(t, "keytype", auth.Sandbox)},
		{"PRODUCTION", g.prod, "/prod/bearer", rsaToken(t, "keytype", auth.Production)},
		{"no keytype", g.prod, "/prod/bearer", rsaToken(t, "keytype", nil)},
	} {
		a := callAuth(t, g.url+"/bearer", bearer(c.tok)...)
		a.mustPass(t, c.name)
		if !strings.HasPrefix(a.body, "GET "+c.path+" ") || !strings.Contains(a.body, "host="+c.host) {
			t.Errorf("%s token reached %q, want %s on %s", c.name, a.body, c.path, c.host)
		}
	}
}

// TestRevokedJTIIsRefused protects revocation in the guard: a token whose
// jti is revoked is refused with 900901, even from the cache.
func TestRevokedJTIIsRefused(t *testing.T) {
	g := startGuarded(t, false, false, map[string]*spec.Security{"/bearer": anyOf(all(oauth2()))})
	tok := rsaToken(t, "jti", "revoke-me")
	callAuth(t, g.url+"/bearer", bearer(tok)...).mustPass(t, "before revocation")
	g.revoked.ids.Store("revoke-me", true)
	callAuth(t, g.url+"/bearer", bearer(tok)...).mustFail(t, "after revocation", 401, 900901)
	callAuth(t, g.url+"/bearer", bearer(rsaToken(t, "jti", "another"))...).mustPass(t, "another jti")
}

// TestCertificateFileIssuerThroughTheProxy protects --jwt-cert: an issuer
// whose key is a PEM file verifies its tokens, and refuses another key's.
func TestCertificateFileIssuerThroughTheProxy(t *testing.T) {
	testKeys(t)
	v, err := jwt.New(t.Context(), jwt.Options{Issuers: []jwt.Issuer{{Issuer: testIss, CertFile: certFile(t, edKey.Public())}},
		Now: newTestClock().Now, Logger: slogTo(&syncBuffer{})})
	if err != nil {
		t.Fatal(err)
	}
	be := echo(t)
	gw := startGateway(t, shop(be.URL, "", map[string]*spec.Security{"/bearer": anyOf(all(oauth2()))}), Options{Auth: &auth.Verifiers{Tokens: v}})
	callAuth(t, gw.url+"/shop/bearer", bearer(signed(t, jwtlib.SigningMethodEdDSA, edKey, "", claims()))...).mustPass(t, "EdDSA by cert file")
	callAuth(t, gw.url+"/shop/bearer", bearer(rsaToken(t))...).mustFail(t, "RSA token", 401, 900901)
}

// TestDisabledAndDefaultSecurityOnOneAPI protects "nothing is open unless
// a definition says so": x-wso2-disable-security serves a resource open,
// and a resource that declares nothing requires a bearer token.
func TestDisabledAndDefaultSecurityOnOneAPI(t *testing.T) {
	g := startGuarded(t, false, false, map[string]*spec.Security{
		"/open":    {Disabled: true},
		"/default": spec.DefaultSecurity(),
	})
	callAuth(t, g.url+"/open").mustPass(t, "x-wso2-disable-security")
	callAuth(t, g.url+"/default").mustFail(t, "no security declared", 401, 900902)
	callAuth(t, g.url+"/default", bearer(rsaToken(t))...).mustPass(t, "no security declared, token")
}

// tamper changes the token's signature.
func tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig := []byte(tok[i+1:])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	return tok[:i+1] + string(sig)
}

// unsignedToken is c with alg none.
func unsignedToken(t *testing.T, c jwtlib.MapClaims) string {
	s, err := jwtlib.NewWithClaims(jwtlib.SigningMethodNone, c).SignedString(jwtlib.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// x509PublicDER is the RSA public key as an attacker would use it for
// HS256: its PEM bytes.
func x509PublicDER(t *testing.T) []byte {
	path := certFile(t, &rsaKey.PublicKey)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEveryCredentialOfAnANDIsAuthorized protects an alternative that
// requires two credentials together: each is checked for revocation, and
// a SANDBOX credential beside a PRODUCTION one is refused, not sent to
// production on the strength of the first.
func TestEveryCredentialOfAnANDIsAuthorized(t *testing.T) {
	g := startGuarded(t, true, false, map[string]*spec.Security{
		"/and": anyOf(all(apiKeyIn(spec.InHeader, "X-API-Key"), oauth2())),
	})
	key, tok := rsaToken(t, "jti", "the-key"), rsaToken(t, "jti", "the-token")
	both := append([]string{"X-API-Key", key}, bearer(tok)...)
	callAuth(t, g.url+"/and", both...).mustPass(t, "both valid")
	g.revoked.ids.Store("the-token", true)
	callAuth(t, g.url+"/and", both...).mustFail(t, "the second credential revoked", 401, 900901)
	mixed := append([]string{"X-API-Key", rsaToken(t)}, bearer(rsaToken(t, "keytype", auth.Sandbox))...)
	callAuth(t, g.url+"/and", mixed...).mustFail(t, "PRODUCTION key with a SANDBOX token", 401, 900901)
}

// TestUnverifiedCredentialsNeverReachTheBackend protects the backend from
// a credential the gateway did not verify: a forged bearer token sent
// beside a valid API key, on a resource that accepts either, is removed,
// with --keep-auth-header too (only the verified credential is kept).
func TestUnverifiedCredentialsNeverReachTheBackend(t *testing.T) {
	routes := map[string]*spec.Security{"/either": anyOf(all(apiKeyIn(spec.InHeader, "X-API-Key")), all(oauth2()))}
	for _, keep := range []bool{false, true} {
		g := startGuarded(t, false, keep, routes)
		a := callAuth(t, g.url+"/either", append([]string{"X-API-Key", rsaToken(t), "X-HTTP-Method-Override", "DELETE"}, bearer("forged.not.verified")...)...)
		a.mustPass(t, "valid API key")
		if got := a.header.Get("Got-Authorization"); got != "" {
			t.Errorf("keep=%v: the backend saw the unverified Authorization %q", keep, got)
		}
		if got := a.header.Get("Got-X-Api-Key"); (got != "") != keep {
			t.Errorf("keep=%v: the backend saw the verified key: %v", keep, got != "")
		}
		if got := a.header.Get("Got-X-Http-Method-Override"); got != "" {
			t.Errorf("keep=%v: the backend saw X-HTTP-Method-Override %q", keep, got)
		}
	}
}
