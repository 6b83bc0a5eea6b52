package proxy

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"github.com/micro-gw/micro-gw/internal/jwktest"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/basic"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/jwt"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// The guard's end-to-end tests (auth_test.go) use real keys of every type,
// a real JWKS server on loopback, the real jwt.Verifier with an injected
// clock, and the real htpasswd store.

const (
	testIss    = "https://idp.test/oauth2/token"
	subIss     = "https://idp.test/subscriptions" // validates subscribedAPIs
	testAud    = "micro-gw"
	clockSkew  = 5 * time.Second
	apiTitle   = "shop"
	apiVersion = "1.0.0"
)

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
	// issuedAt is the injected "now" at which tokens are issued.
	issuedAt = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

// testClock is the verifier's injected clock.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.Set(issuedAt)
	return c
}
func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// jwk renders a public key as a JWK.
func jwk(t testing.TB, kid string, pub crypto.PublicKey) map[string]any {
	t.Helper()
	k, err := jwktest.JWK(kid, pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// allKeys are the JWKs of the test's RSA, EC and Ed25519 keys.
func allKeys(t testing.TB) []map[string]any {
	testKeys(t)
	return []map[string]any{jwk(t, "rsa", &rsaKey.PublicKey), jwk(t, "ec", &ecKey.PublicKey), jwk(t, "ed", edKey.Public())}
}

// verifier builds the real JWT verifier for testIss (audience testAud) and
// subIss (subscriptions validated), both on jwksURL, with the clock.
func verifier(t testing.TB, jwksURL string, clock *testClock, o jwt.Options) *jwt.Verifier {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	o.Issuers = []jwt.Issuer{
		{Issuer: testIss, Audience: testAud, JWKSURL: jwksURL},
		{Issuer: subIss, JWKSURL: jwksURL, ValidateSubscription: true},
	}
	o.ClockSkew, o.Now = clockSkew, clock.Now
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	v, err := jwt.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// claims are micro-gw 3.x-like claims valid from issuedAt for an hour;
// extra pairs set (or, with nil, delete) claims.
func claims(extra ...any) jwtlib.MapClaims {
	c := jwtlib.MapClaims{
		"iss": testIss, "aud": testAud, "sub": "alice",
		"iat": issuedAt.Unix(), "exp": issuedAt.Add(time.Hour).Unix(),
		"jti":     "jti-" + base64.RawURLEncoding.EncodeToString(randomBytes(6)),
		"keytype": auth.Production, "scope": "read:pets",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(c, extra[i].(string))
		} else {
			c[extra[i].(string)] = extra[i+1]
		}
	}
	return c
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// signed signs c with key under kid ("" for none).
func signed(t testing.TB, m jwtlib.SigningMethod, key any, kid string, c jwtlib.MapClaims) string {
	t.Helper()
	tok := jwtlib.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rsaToken is a valid RS256 token with claims(extra...).
func rsaToken(t testing.TB, extra ...any) string {
	testKeys(t)
	return signed(t, jwtlib.SigningMethodRS256, rsaKey, "rsa", claims(extra...))
}

// htpasswd writes a real htpasswd file with bcrypt entries.
func htpasswd(t testing.TB, users ...string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i+1 < len(users); i += 2 {
		h, err := bcrypt.GenerateFromPassword([]byte(users[i+1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(users[i] + ":" + string(h) + "\n")
	}
	path := filepath.Join(t.TempDir(), "users.htpasswd")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func basicStore(t testing.TB, users ...string) *basic.Store {
	t.Helper()
	s, err := basic.New(htpasswd(t, users...), basic.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Security requirements of the test routes.
func oauth2(scopes ...string) spec.Requirement {
	return spec.Requirement{Scheme: "oauth", Kind: spec.KindOAuth2, Scopes: scopes}
}
func apiKeyIn(in, name string) spec.Requirement {
	return spec.Requirement{Scheme: "key-" + in, Kind: spec.KindAPIKey, In: in, Name: name}
}
func basicAuth() spec.Requirement { return spec.Requirement{Scheme: "basic", Kind: spec.KindBasic} }

// anyOf is a security whose alternatives are OR'ed, each an AND.
func anyOf(alts ...[]spec.Requirement) *spec.Security { return &spec.Security{Alternatives: alts} }
func all(r ...spec.Requirement) []spec.Requirement    { return r }

// shop is the test API: production and, if sandbox is not "", sandbox
// endpoints, with resources GET path guarded by each security.
func shop(production, sandbox string, routes map[string]*spec.Security) *spec.Gateway {
	api := spec.API{Title: apiTitle, Version: apiVersion, BasePath: "/shop",
		Production: &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: production + "/prod"}}}}
	if sandbox != "" {
		api.Sandbox = &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: sandbox + "/sandbox"}}}
	}
	for path, sec := range routes {
		api.Resources = append(api.Resources, spec.Resource{Path: path, Method: "GET", Security: sec})
	}
	return &spec.Gateway{APIs: []spec.API{api}}
}

// answer is what the gateway answered one request.
type answer struct {
	status    int
	code      int // the fault code, 0 for a backend answer
	challenge string
	body      string
	header    http.Header
}

// call sends GET url with the header pairs.
func callAuth(t testing.TB, url string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), body: string(b), header: resp.Header}
	var f struct {
		Fault struct {
			Code int `json:"code"`
		} `json:"fault"`
	}
	if json.Unmarshal(b, &f) == nil {
		a.code = f.Fault.Code
	}
	return a
}

// passed reports whether the backend answered (its echo starts with the method).
func (a answer) passed() bool {
	return a.status == 200 && a.code == 0 && strings.HasPrefix(a.body, "GET ")
}

// mustPass fails unless the request reached the backend.
func (a answer) mustPass(t testing.TB, what string) {
	t.Helper()
	if !a.passed() {
		t.Errorf("%s: %d %s, want the backend's 200", what, a.status, a.body)
	}
}

// mustFail fails unless the gateway answered status with the fault code.
func (a answer) mustFail(t testing.TB, what string, status, code int) {
	t.Helper()
	if a.status != status || a.code != code {
		t.Errorf("%s: %d %s, want %d with fault %d", what, a.status, a.body, status, code)
	}
}

// certFile writes pub as a PEM public key, as --jwt-cert takes it.
func certFile(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "issuer.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// revocations is a tiny in-test auth.Revocations; the real one, in etcd,
// is tested through the gateway in pkg/gateway (security_test.go).
type revocations struct{ ids sync.Map }

func (r *revocations) Revoked(jti string) bool { _, ok := r.ids.Load(jti); return ok }

// syncBuffer collects log lines from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
