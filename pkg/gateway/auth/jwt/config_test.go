package jwt

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

func TestLoadIssuersFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "issuers.yaml")
	os.WriteFile(path, []byte(`
- issuer: https://a.test
  audience: gw
  jwks_url: https://a.test/jwks
  validate_subscription: true
  claims: {scope: scp, keytype: env, application: app, subscribed_apis: subs}
- issuer: https://b.test
  cert: b.pem
  hmac_secret_file: /abs/hs.secret
`), 0o600)
	got, err := LoadIssuersFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d issuers", len(got))
	}
	a, b := got[0], got[1]
	if a.Issuer != "https://a.test" || a.Audience != "gw" || a.JWKSURL != "https://a.test/jwks" || !a.ValidateSubscription ||
		a.Claims != (ClaimNames{Scope: "scp", KeyType: "env", Application: "app", SubscribedAPIs: "subs"}) {
		t.Errorf("first issuer %+v", a)
	}
	if b.CertFile != filepath.Join(dir, "b.pem") || b.HMACSecretFile != "/abs/hs.secret" || b.ValidateSubscription {
		t.Errorf("second issuer %+v", b)
	}
}

func TestIssuersFileErrorsNameTheLine(t *testing.T) {
	for name, c := range map[string]struct{ yaml, want string }{
		"not a list":       {"issuer: x\n", ":1: expected a list of issuers"},
		"empty list":       {"[]\n", ":1: the list of issuers is empty"},
		"empty file":       {"", "the file is empty"},
		"entry not a map":  {"- https://a.test\n", ":1: expected an issuer"},
		"unknown field":    {"- issuer: a\n  jwks_url: https://a/j\n  jwksurl: x\n", `:3: unknown field "jwksurl"`},
		"no issuer":        {"- jwks_url: https://a/j\n", ":1: this entry has no issuer"},
		"no keys":          {"- issuer: a\n  audience: gw\n", `:1: issuer "a" has no keys`},
		"bad bool":         {"- issuer: a\n  jwks_url: https://a/j\n  validate_subscription: yes please\n", `:3: validate_subscription is "yes please"`},
		"list value":       {"- issuer: [a, b]\n", ":1: issuer must be a single value"},
		"null value":       {"- issuer: a\n  jwks_url:\n", ":2: jwks_url must be a single value"},
		"unknown claim":    {"- issuer: a\n  jwks_url: https://a/j\n  claims:\n    scopes: scp\n", `:4: unknown claim name field "scopes"`},
		"claims not a map": {"- issuer: a\n  jwks_url: https://a/j\n  claims: scp\n", ":3: claims must be a mapping"},
		"duplicate":        {"- issuer: a\n  jwks_url: https://a/j\n- issuer: a\n  cert: c.pem\n", `:3: issuer "a" is already listed at line 1`},
		"bad YAML":         {"- issuer: a\n  jwks_url: [\n", "issuers.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, "issuers.yaml", []byte(c.yaml))
			_, err := LoadIssuersFile(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "issuers.yaml") {
				t.Fatalf("error %v, want one naming issuers.yaml and %q", err, c.want)
			}
		})
	}
	if _, err := LoadIssuersFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "--jwt-issuers-file") {
		t.Fatalf("missing file: %v", err)
	}
}

// Errors in an issuer read from the file name the file and line in New too.
func TestNewNamesTheIssuersFileLine(t *testing.T) {
	path := writeFile(t, "issuers.yaml", []byte("- issuer: a\n  jwks_url: https://a/j\n- issuer: b\n  cert: missing.pem\n"))
	issuers, err := LoadIssuersFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Options{Issuers: issuers[1:]})
	if err == nil || !strings.Contains(err.Error(), "issuers.yaml:3") || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("error %v", err)
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	genKeys(t)
	privDER, _ := x509.MarshalPKCS8PrivateKey(rsaA)
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})
	small := mustRSA(t, 1024)
	for name, c := range map[string]struct {
		o    Options
		want string
	}{
		"no issuers":     {Options{}, "no JWT issuer is configured"},
		"no iss":         {Options{Issuers: []Issuer{{JWKSURL: "https://a/j"}}}, "has no iss"},
		"no keys":        {Options{Issuers: []Issuer{{Issuer: "a"}}}, "has no keys"},
		"http remote":    {Options{Issuers: []Issuer{{Issuer: "a", JWKSURL: "http://idp.example.com/jwks"}}}, "not loopback; use https://"},
		"ftp":            {Options{Issuers: []Issuer{{Issuer: "a", JWKSURL: "ftp://idp/jwks"}}}, "not https://"},
		"relative URL":   {Options{Issuers: []Issuer{{Issuer: "a", JWKSURL: "/jwks"}}}, "absolute URL"},
		"private key":    {Options{Issuers: []Issuer{{Issuer: "a", CertFile: writeFile(t, "k.pem", privPEM)}}}, "holds a private key"},
		"not PEM":        {Options{Issuers: []Issuer{{Issuer: "a", CertFile: writeFile(t, "k.pem", []byte("hello"))}}}, "no PEM public key or certificate"},
		"small RSA":      {Options{Issuers: []Issuer{{Issuer: "a", CertFile: writeFile(t, "k.pem", pemPublic(t, &small.PublicKey))}}}, "1024 bits"},
		"missing cert":   {Options{Issuers: []Issuer{{Issuer: "a", CertFile: "/nonexistent/k.pem"}}}, "/nonexistent/k.pem"},
		"short secret":   {Options{Issuers: []Issuer{{Issuer: "a", HMACSecretFile: writeFile(t, "hs", []byte("short\n"))}}}, "holds 5 bytes"},
		"empty secret":   {Options{Issuers: []Issuer{{Issuer: "a", HMACSecretFile: writeFile(t, "hs", nil)}}}, "holds 0 bytes"},
		"duplicate":      {Options{Issuers: []Issuer{{Issuer: "a", JWKSURL: "https://a/j"}, {Issuer: "a", JWKSURL: "https://a/k"}}}, "configured twice"},
		"negative skew":  {Options{Issuers: []Issuer{{Issuer: "a", JWKSURL: "https://a/j"}}, ClockSkew: -time.Second}, "--jwt-clock-skew"},
		"negative cache": {Options{Issuers: []Issuer{{Issuer: "a", JWKSURL: "https://a/j"}}, CacheSize: -1}, "--jwt-cache-size"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(context.Background(), c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// A certificate file (not only a bare public key) is accepted.
func TestCertificateFileVerifies(t *testing.T) {
	genKeys(t)
	tmpl := &x509.Certificate{SerialNumber: bigOne(), NotBefore: epoch.Add(-time.Hour), NotAfter: epoch.Add(time.Hour)}
	der, err := x509.CreateCertificate(randReader(), tmpl, tmpl, &ecP256.PublicKey, ecP256)
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	h := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, CertFile: cert}}})
	// WSO2 tokens carry a kid even when verified with a certificate.
	h.accept(t, sign(t, jwtlib.SigningMethodES256, ecP256, "MzYxMmFkMzYyMWQ3", claims()))
	h.refuse(t, sign(t, jwtlib.SigningMethodES256, ecP256b, "", claims()), fault.InvalidCredentials)
}

// New returns within StartTimeout even when the JWKS server never answers.
func TestNewDoesNotHangOnASilentJWKSServer(t *testing.T) {
	genKeys(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	started := time.Now()
	h := newHarness(t, Options{Issuers: []Issuer{{Issuer: testIssuer, JWKSURL: srv.URL}}, StartTimeout: 200 * time.Millisecond})
	if took := time.Since(started); took > 2*time.Second {
		t.Fatalf("New took %v with a 200ms start timeout", took)
	}
	if !strings.Contains(h.logs.String(), "no signing keys from the issuer's JWKS URL at start") {
		t.Fatalf("no warning at start:\n%s", h.logs.String())
	}
}

func TestPeek(t *testing.T) {
	genKeys(t)
	jti, exp, err := Peek(sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims("jti", "abc-1")))
	if err != nil || jti != "abc-1" || !exp.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("Peek: %q %v %v", jti, exp, err)
	}
	_, exp, err = Peek(sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims("jti", "x", "exp", nil)))
	if err != nil || !exp.IsZero() {
		t.Fatalf("no exp: %v %v", exp, err)
	}
	for name, tok := range map[string][]byte{
		"no jti":   sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims("jti", nil)),
		"garbage":  []byte("not a token"),
		"bad exp":  sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims("exp", "soon")),
		"jti type": sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims("jti", 5)),
	} {
		if _, _, err := Peek(tok); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
