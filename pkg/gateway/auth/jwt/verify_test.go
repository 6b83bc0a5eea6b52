package jwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/micro-gw/micro-gw/internal/jwktest"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// jwksHarness is a verifier trusting testIssuer through a JWKS server
// publishing every test key under its kid.
func jwksHarness(t *testing.T, mod func(*Options)) (*harness, *jwktest.Server) {
	t.Helper()
	genKeys(t)
	srv := jwktest.NewServer(t,
		jwkOf(t, "rsa-a", &rsaA.PublicKey),
		jwkOf(t, "ec-256", &ecP256.PublicKey),
		jwkOf(t, "ec-384", &ecP384.PublicKey),
		jwkOf(t, "ed", edKey.Public()),
	)
	o := Options{Issuers: []Issuer{{Issuer: testIssuer, JWKSURL: srv.URL}}, ClockSkew: 5 * time.Second}
	if mod != nil {
		mod(&o)
	}
	return newHarness(t, o), srv
}

func TestEveryAsymmetricAlgorithmIsAcceptedWithItsKey(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	for _, c := range []struct {
		m   jwtlib.SigningMethod
		key any
		kid string
	}{
		{jwtlib.SigningMethodRS256, rsaA, "rsa-a"},
		{jwtlib.SigningMethodRS384, rsaA, "rsa-a"},
		{jwtlib.SigningMethodRS512, rsaA, "rsa-a"},
		{jwtlib.SigningMethodPS256, rsaA, "rsa-a"},
		{jwtlib.SigningMethodPS384, rsaA, "rsa-a"},
		{jwtlib.SigningMethodPS512, rsaA, "rsa-a"},
		{jwtlib.SigningMethodES256, ecP256, "ec-256"},
		{jwtlib.SigningMethodES384, ecP384, "ec-384"},
		{jwtlib.SigningMethodEdDSA, edKey, "ed"},
	} {
		t.Run(c.m.Alg(), func(t *testing.T) {
			p := h.accept(t, sign(t, c.m, c.key, c.kid, claims()))
			if p.Subject != "alice" || p.Issuer != testIssuer || !p.Expires.Equal(epoch.Add(time.Hour)) {
				t.Errorf("principal %+v", p)
			}
		})
	}
}

func TestES512IsAcceptedWithAP521Key(t *testing.T) {
	genKeys(t)
	p521 := mustEC(t, "P-521")
	srv := jwktest.NewServer(t, jwkOf(t, "ec-521", &p521.PublicKey))
	h := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, JWKSURL: srv.URL}}})
	h.accept(t, sign(t, jwtlib.SigningMethodES512, p521, "ec-521", claims()))
	h.refuse(t, sign(t, jwtlib.SigningMethodES256, ecP256, "ec-521", claims()), fault.InvalidCredentials)
}

func TestAlgNoneIsRefused(t *testing.T) {
	h, _ := jwksHarness(t, func(o *Options) { o.Issuers[0].CertFile = writeFile(t, "pub.pem", pemPublic(t, &rsaA.PublicKey)) })
	tok := sign(t, jwtlib.SigningMethodNone, jwtlib.UnsafeAllowNoneSignatureType, "", claims())
	h.refuse(t, tok, fault.InvalidCredentials)
	h.refuse(t, sign(t, jwtlib.SigningMethodNone, jwtlib.UnsafeAllowNoneSignatureType, "rsa-a", claims()), fault.InvalidCredentials)
}

// The classic confusion: a verifier that hands its RSA public key to HMAC
// accepts tokens anyone can make from the published key.
func TestHS256SignedWithThePublicKeyIsRefused(t *testing.T) {
	genKeys(t)
	pubPEM := pemPublic(t, &rsaA.PublicKey)
	certOnly := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, CertFile: writeFile(t, "pub.pem", pubPEM)}}})
	certOnly.refuse(t, sign(t, jwtlib.SigningMethodHS256, pubPEM, "", claims()), fault.InvalidCredentials)
	// Even with a secret configured, the secret verifies HS*, never the public key.
	both := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer,
		CertFile: writeFile(t, "pub.pem", pubPEM), HMACSecretFile: writeFile(t, "hs", hmacSecret)}}})
	both.refuse(t, sign(t, jwtlib.SigningMethodHS256, pubPEM, "", claims()), fault.InvalidCredentials)
	both.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims()))
}

func TestHS256WithTheConfiguredSecretIsAccepted(t *testing.T) {
	genKeys(t)
	h := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, HMACSecretFile: writeFile(t, "hs", append(hmacSecret, '\n'))}}})
	h.accept(t, sign(t, jwtlib.SigningMethodHS256, hmacSecret, "", claims()))
	h.accept(t, sign(t, jwtlib.SigningMethodHS512, hmacSecret, "any-kid", claims()))
	h.refuse(t, sign(t, jwtlib.SigningMethodHS256, []byte("another secret of thirty-two bytes!"), "", claims()), fault.InvalidCredentials)
	// An HMAC-only issuer accepts no asymmetric algorithm.
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims()), fault.InvalidCredentials)
}

func TestKeyTypeMustMatchAlg(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	for name, tok := range map[string][]byte{
		"ES256 naming the P-384 key":   sign(t, jwtlib.SigningMethodES256, ecP256, "ec-384", claims()),
		"ES384 naming the P-256 key":   sign(t, jwtlib.SigningMethodES384, ecP384, "ec-256", claims()),
		"RS256 naming the EC key":      sign(t, jwtlib.SigningMethodRS256, rsaA, "ec-256", claims()),
		"EdDSA naming the RSA key":     sign(t, jwtlib.SigningMethodEdDSA, edKey, "rsa-a", claims()),
		"HS256 naming the RSA key":     sign(t, jwtlib.SigningMethodHS256, pemPublic(t, &rsaA.PublicKey), "rsa-a", claims()),
		"RS256 by a key not published": sign(t, jwtlib.SigningMethodRS256, rsaB, "rsa-a", claims()),
	} {
		t.Run(name, func(t *testing.T) { h.refuse(t, tok, fault.InvalidCredentials) })
	}
}

// A JWK's alg restricts its key to that algorithm.
func TestJWKAlgRestrictsTheKey(t *testing.T) {
	genKeys(t)
	k := jwkOf(t, "rs256-only", &rsaA.PublicKey)
	k["alg"] = "RS256"
	srv := jwktest.NewServer(t, k)
	h := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, JWKSURL: srv.URL}}})
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rs256-only", claims()))
	h.refuse(t, sign(t, jwtlib.SigningMethodPS256, rsaA, "rs256-only", claims()), fault.InvalidCredentials)
}

func TestWrongIssuerIsRefused(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("iss", "https://evil.test")), fault.InvalidCredentials)
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("iss", nil)), fault.InvalidCredentials)
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("iss", 42)), fault.InvalidCredentials)
}

// One issuer's key never vouches for another issuer's tokens.
func TestKeysOfOneIssuerDoNotVerifyAnother(t *testing.T) {
	genKeys(t)
	h := newHarness(t, Options{Issuers: []Issuer{
		{Issuer: "https://a.test", CertFile: writeFile(t, "a.pem", pemPublic(t, &rsaA.PublicKey))},
		{Issuer: "https://b.test", CertFile: writeFile(t, "b.pem", pemPublic(t, &rsaB.PublicKey))},
	}})
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims("iss", "https://a.test")))
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaB, "", claims("iss", "https://b.test")))
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims("iss", "https://b.test")), fault.InvalidCredentials)
}

func TestWrongAudienceIsRefused(t *testing.T) {
	h, _ := jwksHarness(t, func(o *Options) { o.Issuers[0].Audience = "gateway" })
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("aud", "gateway")))
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("aud", []string{"other", "gateway"})))
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("aud", "other")), fault.InvalidCredentials)
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("aud", []string{"other"})), fault.InvalidCredentials)
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims()), fault.InvalidCredentials)
}

// The skew is inclusive: valid at exactly the boundary, refused one second past it.
func TestTimeClaimsAtTheSkewBoundaries(t *testing.T) {
	const skew = 5 * time.Second
	h, _ := jwksHarness(t, nil)
	exp, nbf, iat := epoch.Add(time.Hour), epoch.Add(10*time.Minute), epoch.Add(20*time.Minute)
	for _, c := range []struct {
		name string
		now  time.Time
		c    jwtlib.MapClaims
		want *fault.Fault
	}{
		{"exp+skew", exp.Add(skew), claims(), nil},
		{"exp+skew+1s", exp.Add(skew + time.Second), claims(), fault.TokenExpired},
		{"nbf-skew", nbf.Add(-skew), claims("nbf", nbf.Unix()), nil},
		{"nbf-skew-1s", nbf.Add(-skew - time.Second), claims("nbf", nbf.Unix()), fault.InvalidCredentials},
		{"iat-skew", iat.Add(-skew), claims("iat", iat.Unix()), nil},
		{"iat-skew-1s", iat.Add(-skew - time.Second), claims("iat", iat.Unix()), fault.InvalidCredentials},
		{"no exp", epoch, claims("exp", nil), fault.InvalidCredentials},
		{"exp not a number", epoch, claims("exp", "tomorrow"), fault.InvalidCredentials},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.clock.Set(c.now)
			tok := sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", c.c)
			if c.want == nil {
				h.accept(t, tok)
			} else {
				h.refuse(t, tok, c.want)
			}
		})
	}
}

func TestCacheAnswersUntilExpAndAtMost15Minutes(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	long := sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims())
	first := h.accept(t, long)
	if again := h.accept(t, long); again != first {
		t.Fatal("the second verification did not come from the cache")
	}
	h.clock.Advance(maxCacheLife - time.Second)
	if again := h.accept(t, long); again != first {
		t.Fatal("the cache entry ended before 15 minutes")
	}
	h.clock.Advance(time.Second)
	reverified := h.accept(t, long)
	if reverified == first {
		t.Fatal("a cache entry outlived 15 minutes")
	}
	if !reflect.DeepEqual(reverified, first) {
		t.Fatalf("re-verified principal differs: %+v vs %+v", reverified, first)
	}

	// An entry ends at the token's exp: then the token is checked again.
	h.clock.Set(epoch)
	short := sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("exp", epoch.Add(time.Minute).Unix()))
	p := h.accept(t, short)
	h.clock.Set(epoch.Add(time.Minute - time.Nanosecond))
	if again := h.accept(t, short); again != p {
		t.Fatal("not cached until exp")
	}
	h.clock.Set(epoch.Add(time.Minute + 5*time.Second + time.Second))
	h.refuse(t, short, fault.TokenExpired)
}

func TestCacheStaysBounded(t *testing.T) {
	h, _ := jwksHarness(t, func(o *Options) { o.CacheSize = 32 })
	for i := 0; i < 200; i++ {
		h.accept(t, sign(t, jwtlib.SigningMethodES256, ecP256, "ec-256", claims()))
	}
	n := 0
	for i := range h.v.cache.shards {
		s := &h.v.cache.shards[i]
		s.mu.Lock()
		if len(s.m) > cap(s.ring) {
			t.Errorf("shard %d holds %d entries, bound %d", i, len(s.m), cap(s.ring))
		}
		n += len(s.m)
		s.mu.Unlock()
	}
	if n > 32 {
		t.Fatalf("cache holds %d entries, bound 32", n)
	}
}

func TestScopesFromScopeOrScp(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	for name, c := range map[string]struct {
		claims jwtlib.MapClaims
		want   []string
	}{
		"scope string": {claims("scope", "read:pets  write:pets"), []string{"read:pets", "write:pets"}},
		"scp list":     {claims("scp", []string{"read:pets", "admin"}), []string{"read:pets", "admin"}},
		"scp string":   {claims("scp", "a b"), []string{"a", "b"}},
		"scope wins":   {claims("scope", "a", "scp", []string{"b"}), []string{"a"}},
		"none":         {claims(), nil},
		"empty scope":  {claims("scope", ""), []string{}},
	} {
		t.Run(name, func(t *testing.T) {
			p := h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", c.claims))
			if len(p.Scopes) != len(c.want) || len(c.want) > 0 && !reflect.DeepEqual(p.Scopes, c.want) {
				t.Fatalf("scopes %q, want %q", p.Scopes, c.want)
			}
		})
	}
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("scope", 7)), fault.InvalidCredentials)
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("scp", []any{"a", 1})), fault.InvalidCredentials)
}

func TestKeyTypeClaim(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	for in, want := range map[any]string{nil: auth.Production, "PRODUCTION": auth.Production, "sandbox": auth.Sandbox, "Sandbox": auth.Sandbox} {
		p := h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("keytype", in)))
		if p.KeyType != want {
			t.Errorf("keytype %v: got %s, want %s", in, p.KeyType, want)
		}
	}
	for _, bad := range []any{"STAGING", "", 1} {
		h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("keytype", bad)), fault.InvalidCredentials)
	}
}

func TestApplicationAndSubscribedAPIs(t *testing.T) {
	h, _ := jwksHarness(t, func(o *Options) { o.Issuers[0].ValidateSubscription = true })
	c := claims(
		"application", map[string]any{"id": 42, "name": "shop", "owner": "bob", "tier": "Unlimited"},
		"subscribedAPIs", []map[string]any{
			{"name": "petstore", "context": "/petstore/v1", "version": "1.0.0", "publisher": "admin", "subscriptionTier": "Gold", "subscriberTenantDomain": "carbon.super"},
			{"name": "orders", "context": "/orders", "version": "2"},
		})
	p := h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", c))
	if want := (auth.Application{ID: "42", Name: "shop", Owner: "bob", Tier: "Unlimited"}); p.Application != want {
		t.Errorf("application %+v, want %+v", p.Application, want)
	}
	want := []auth.Subscription{
		{Name: "petstore", Context: "/petstore/v1", Version: "1.0.0", Publisher: "admin", Tier: "Gold"},
		{Name: "orders", Context: "/orders", Version: "2"},
	}
	if !reflect.DeepEqual(p.Subscriptions, want) || !p.ValidateSubscription {
		t.Errorf("subscriptions %+v (validate %v), want %+v", p.Subscriptions, p.ValidateSubscription, want)
	}
	if _, ok := p.Subscribed("petstore", "1.0.0"); !ok {
		t.Error("not subscribed to petstore")
	}
	p = h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("application", map[string]any{"id": "app-7"})))
	if p.Application.ID != "app-7" {
		t.Errorf("string application id: %+v", p.Application)
	}
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("application", "shop")), fault.InvalidCredentials)
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("subscribedAPIs", map[string]any{"name": "x"})), fault.InvalidCredentials)
}

func TestIDIsTheJTIOrAShortHash(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	p := h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("jti", "token-1")))
	if p.ID != "token-1" || p.JTI != "token-1" {
		t.Errorf("ID %q JTI %q", p.ID, p.JTI)
	}
	p = h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("jti", nil)))
	if len(p.ID) != 12 || p.JTI != "" {
		t.Errorf("ID %q JTI %q; want 12 hex characters", p.ID, p.JTI)
	}
}

func TestRenamedClaims(t *testing.T) {
	h, _ := jwksHarness(t, func(o *Options) {
		o.Issuers[0].Claims = ClaimNames{Scope: "permissions", KeyType: "env", Application: "app", SubscribedAPIs: "subs"}
	})
	p := h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims(
		"permissions", "a b", "env", "SANDBOX", "app", map[string]any{"name": "shop"}, "subs", []map[string]any{{"name": "petstore"}},
		"keytype", "bogus-but-not-read")))
	if !reflect.DeepEqual(p.Scopes, []string{"a", "b"}) || p.KeyType != auth.Sandbox || p.Application.Name != "shop" || len(p.Subscriptions) != 1 {
		t.Errorf("principal %+v", p)
	}
}

func TestTokenWithoutKidUsesTheOnlyFittingKey(t *testing.T) {
	h, srv := jwksHarness(t, nil)
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims()))
	h.accept(t, sign(t, jwtlib.SigningMethodEdDSA, edKey, "", claims()))
	// Two P-256 keys: a token must name its key.
	srv.Set(t, jwkOf(t, "ec-1", &ecP256.PublicKey), jwkOf(t, "ec-2", &ecP256b.PublicKey))
	h.clock.Advance(time.Minute)
	h.accept(t, sign(t, jwtlib.SigningMethodES256, ecP256b, "ec-2", claims())) // refreshes the set
	h.refuse(t, sign(t, jwtlib.SigningMethodES256, ecP256b, "", claims()), fault.InvalidCredentials)
}

func TestMalformedTokensAreRefused(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	good := sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims())
	for name, tok := range map[string][]byte{
		"empty":          nil,
		"one part":       []byte("abc"),
		"four parts":     append(append([]byte{}, good...), ".x"...),
		"bad base64":     []byte("!!.!!.!!"),
		"padded":         []byte(string(good) + "="),
		"huge":           make([]byte, maxTokenBytes+1),
		"kid not string": sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims()),
	} {
		if name == "kid not string" {
			tk := jwtlib.NewWithClaims(jwtlib.SigningMethodRS256, claims())
			tk.Header["kid"] = 5
			s, _ := tk.SignedString(rsaA)
			tok = []byte(s)
		}
		t.Run(name, func(t *testing.T) { h.refuse(t, tok, fault.InvalidCredentials) })
	}
}

// A key rotated in at the issuer is accepted as soon as it is published:
// the unknown kid triggers one refresh, which the request waits for.
func TestRotatedKeyIsAcceptedAfterRefresh(t *testing.T) {
	h, srv := jwksHarness(t, nil)
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims()))
	srv.Set(t, jwkOf(t, "rsa-b", &rsaB.PublicKey))
	h.clock.Advance(10 * time.Second) // the default MinRefreshGap since the start fetch
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaB, "rsa-b", claims()))
	// The old key is gone from the set now.
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims()), fault.InvalidCredentials)
}

func TestUnknownKidFloodFetchesAtMostOncePerGap(t *testing.T) {
	h, srv := jwksHarness(t, nil)
	before := srv.Fetches.Load()
	flood := func() {
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			tok := sign(t, jwtlib.SigningMethodRS256, rsaB, fmt.Sprintf("unknown-%d", i), claims())
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, f := h.v.Verify(tok); f != fault.InvalidCredentials {
					t.Errorf("unknown kid got %v", f)
				}
			}()
		}
		wg.Wait()
	}
	flood() // within the gap since the start fetch: no fetch at all
	if n := srv.Fetches.Load() - before; n != 0 {
		t.Fatalf("%d fetches within the gap after the start fetch, want 0", n)
	}
	h.clock.Advance(10 * time.Second)
	flood()
	if n := srv.Fetches.Load() - before; n != 1 {
		t.Fatalf("%d fetches for a flood of unknown kids, want 1", n)
	}
	h.clock.Advance(9 * time.Second)
	flood()
	if n := srv.Fetches.Load() - before; n != 1 {
		t.Fatalf("%d fetches 9s later, want still 1", n)
	}
	h.clock.Advance(time.Second)
	flood()
	if n := srv.Fetches.Load() - before; n != 2 {
		t.Fatalf("%d fetches after a second gap, want 2", n)
	}
}

func TestJWKSDownAtStartFailsClosedUntilItComesUp(t *testing.T) {
	genKeys(t)
	srv := jwktest.NewServer(t, jwkOf(t, "rsa-a", &rsaA.PublicKey))
	srv.Down.Store(true)
	h := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, JWKSURL: srv.URL}}})
	tok := sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims())
	h.refuse(t, tok, fault.AuthUnavailable)
	h.refuse(t, tok, fault.AuthUnavailable)
	logs := h.logs.String()
	if !contains2(logs, "no signing keys", srv.URL) {
		t.Fatalf("no clear log line naming the JWKS URL:\n%s", logs)
	}
	// Invalid tokens of other issuers are still just invalid.
	h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims("iss", "https://other.test")), fault.InvalidCredentials)

	srv.Down.Store(false)
	h.clock.Advance(10 * time.Second) // a refresh is allowed again: this request triggers and waits for it
	h.accept(t, tok)
}

func TestJWKSOutageKeepsTheLastGoodKeys(t *testing.T) {
	h, srv := jwksHarness(t, nil)
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims()))
	for _, c := range []struct {
		name   string
		broken func()
	}{
		{"503", func() { srv.Down.Store(true) }},
		{"not JSON", func() { srv.Down.Store(false); srv.SetRaw([]byte("<html>oops</html>")) }},
		{"empty set", func() { srv.Set(t) }},
		{"oct only", func() { srv.Set(t, map[string]any{"kty": "oct", "kid": "rsa-a", "k": "c2VjcmV0"}) }},
		{"too large", func() { srv.SetRaw(make([]byte, maxJWKSBytes+10)) }},
		{"server gone", func() { srv.Close() }}, // last: it stays gone
	} {
		name, broken := c.name, c.broken
		t.Run(name, func(t *testing.T) {
			broken()
			before := srv.Fetches.Load()
			h.clock.Advance(10 * time.Second)
			// An unknown kid triggers a fetch, which fails...
			h.refuse(t, sign(t, jwtlib.SigningMethodRS256, rsaB, "rsa-new", claims()), fault.InvalidCredentials)
			if name != "server gone" && srv.Fetches.Load() == before {
				t.Fatalf("no fetch was made (%d before, %d after); logs:\n%s", before, srv.Fetches.Load(), h.logs.String())
			}
			// ...and the keys fetched before still verify new tokens.
			h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims()))
		})
	}
}

func contains2(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func mustEC(t *testing.T, curve string) *ecdsa.PrivateKey {
	t.Helper()
	c := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[curve]
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestStatusShowsWhetherKeysAreLoaded protects what /status tells an
// operator about each issuer: no key set while the JWKS server is down
// (with the error), then the keys held and when they were fetched.
func TestStatusShowsWhetherKeysAreLoaded(t *testing.T) {
	genKeys(t)
	srv := jwktest.NewServer(t, jwkOf(t, "rsa-a", &rsaA.PublicKey))
	srv.Down.Store(true)
	h := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, JWKSURL: srv.URL, ValidateSubscription: true}}})
	st := h.v.Status()
	if len(st) != 1 || st[0].Issuer != testIssuer || st[0].JWKSLoaded || st[0].JWKSError == "" || !st[0].ValidateSubscription {
		t.Fatalf("status with the JWKS server down = %+v", st)
	}
	srv.Down.Store(false)
	h.clock.Advance(10 * time.Second)
	h.accept(t, sign(t, jwtlib.SigningMethodRS256, rsaA, "rsa-a", claims()))
	st = h.v.Status()
	if !st[0].JWKSLoaded || st[0].JWKSKeys != 1 || st[0].JWKSError != "" || st[0].JWKSFetched.IsZero() || st[0].JWKSURL != srv.URL {
		t.Fatalf("status after a fetch = %+v", st)
	}
}

// TestCriticalHeaderExtensionsAreRefused protects RFC 7515 §4.1.11: a
// token whose crit header lists extensions the gateway does not implement
// is refused, even with a valid signature.
func TestCriticalHeaderExtensionsAreRefused(t *testing.T) {
	h, _ := jwksHarness(t, nil)
	tk := jwtlib.NewWithClaims(jwtlib.SigningMethodRS256, claims())
	tk.Header["kid"] = "rsa-a"
	tk.Header["crit"] = []string{"exp-must-be-ignored"}
	tk.Header["exp-must-be-ignored"] = true
	s, err := tk.SignedString(rsaA)
	if err != nil {
		t.Fatal(err)
	}
	h.refuse(t, []byte(s), fault.InvalidCredentials)
}

// TestCacheKeyCollisionIsAMiss protects the verified-token cache's key,
// a 64-bit hash: a token whose key matches another's cached token gets
// nothing from it, since a hit compares the whole token.
func TestCacheKeyCollisionIsAMiss(t *testing.T) {
	c := newCache(16)
	p := &auth.Principal{Subject: "alice"}
	c.put(42, []byte("token-of-alice"), p, 100)
	if got, ok := c.get(42, []byte("token-of-alice"), 1); !ok || got != p {
		t.Fatalf("the cached token is not found: %v %v", got, ok)
	}
	if got, ok := c.get(42, []byte("token-of-mallory"), 1); ok {
		t.Fatalf("another token with the same key got %+v", got)
	}
}

// TestJWKSURLCredentialsStayOutOfStatusAndLogs protects a JWKS URL that
// carries a token as its user name (https://TOKEN@idp/jwks): /status and
// the log show it redacted, as every other URL (endpoint.Redact), not
// whole, as url.URL.Redacted leaves a URL without a password.
func TestJWKSURLCredentialsStayOutOfStatusAndLogs(t *testing.T) {
	genKeys(t)
	srv := jwktest.NewServer(t, jwkOf(t, "rsa-a", &rsaA.PublicKey))
	srv.Down.Store(true) // the fetch fails, so the URL is logged
	const secret = "s3cr3t-t0ken"
	withToken := strings.Replace(srv.URL, "http://", "http://"+secret+"@", 1)
	h := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, JWKSURL: withToken}}, StartTimeout: 200 * time.Millisecond})
	st := h.v.Status()
	if len(st) != 1 || st[0].JWKSURL == "" || strings.Contains(st[0].JWKSURL, secret) {
		t.Errorf("status shows the JWKS URL as %q; want it without %q", st[0].JWKSURL, secret)
	}
	if strings.Contains(h.logs.String(), secret) {
		t.Errorf("the log shows the JWKS URL's token:\n%s", h.logs.String())
	}
}
