package auth_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/bcrypt"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/basic"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/jwt"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

const fuzzIssuer = "https://idp.test/token"

var fuzzNow = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// realGuard compiles a guard accepting a bearer JWT, basic auth, or an API
// key (as a JWT) in the X-API-Key header or the api_key query parameter,
// with the real verifiers: an Ed25519 issuer key from a --jwt-cert file and
// an htpasswd file with the bcrypt user alice:wonderland. It returns the
// guard and a valid token.
func realGuard(t testing.TB) (*auth.Guard, string) {
	t.Helper()
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	cert := filepath.Join(dir, "issuer.pem")
	hash, _ := bcrypt.GenerateFromPassword([]byte("wonderland"), bcrypt.MinCost)
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(users, []byte("alice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	tv, err := jwt.New(t.Context(), jwt.Options{Issuers: []jwt.Issuer{{Issuer: fuzzIssuer, CertFile: cert}},
		Now: func() time.Time { return fuzzNow }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := basic.New(users, basic.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwtlib.NewWithClaims(jwtlib.SigningMethodEdDSA, jwtlib.MapClaims{"iss": fuzzIssuer, "sub": "alice", "jti": "fuzz",
		"iat": fuzzNow.Unix(), "exp": fuzzNow.Add(time.Hour).Unix()}).SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	sec := &spec.Security{Alternatives: [][]spec.Requirement{
		{{Scheme: "oauth", Kind: spec.KindOAuth2}},
		{{Scheme: "basic", Kind: spec.KindBasic}},
		{{Scheme: "hkey", Kind: spec.KindAPIKey, In: spec.InHeader, Name: "X-API-Key"}},
		{{Scheme: "qkey", Kind: spec.KindAPIKey, In: spec.InQuery, Name: "api_key"}},
	}}
	g := auth.Compile(sec, &spec.API{Title: "shop", Version: "1"}, &auth.Verifiers{Tokens: tv, Basic: bs})
	return g, tok
}

// FuzzGuardCheck feeds arbitrary Authorization, X-API-Key and api_key
// values to a guard with the real verifiers: it must never panic, and
// never let a request through unless it carries one of the valid
// credentials (the token, or alice's password).
func FuzzGuardCheck(f *testing.F) {
	g, tok := realGuard(f)
	basicOK := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))
	for _, s := range [][3]string{
		{"Bearer " + tok, "", ""}, {"bearer   " + tok + "  ", "", ""}, {"", tok, ""}, {"", "", tok},
		{basicOK, "", ""}, {"BASIC YWxpY2U6d29uZGVybGFuZA==", "", ""}, {"Basic YWxpY2U6", "", ""},
		{"Bearer ", "", ""}, {"Bearer " + tok[:len(tok)-2], "", ""}, {"Basic", "", ""}, {"Digest x", "a.b.c", "a.b"},
		{"Bearer " + strings.Repeat("a.", 3), "..", "%%%"}, {"", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, authz, key, query string) {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI("/x?api_key=" + url.QueryEscape(query))
		if authz != "" {
			ctx.Request.Header.Set("Authorization", authz)
		}
		if key != "" {
			ctx.Request.Header.Set("X-API-Key", key)
		}
		// What the request carries, as the guard reads it.
		gotAuthz := string(ctx.Request.Header.Peek("Authorization"))
		gotKey := string(ctx.Request.Header.Peek("X-API-Key"))
		gotQuery := string(ctx.QueryArgs().Peek("api_key"))
		p, flt := g.Check(&ctx)
		if flt != nil {
			if p != nil {
				t.Fatalf("fault %d with a principal", flt.Code)
			}
			return
		}
		if p == nil {
			t.Fatal("passed without a principal on a mandatory guard")
		}
		valid := gotKey == tok || gotQuery == tok || bearerIs(gotAuthz, tok) || basicIsAlice(gotAuthz)
		if !valid {
			t.Fatalf("passed without a valid credential: Authorization %q, X-API-Key %q, api_key %q", gotAuthz, gotKey, gotQuery)
		}
	})
}

func bearerIs(v, tok string) bool {
	return len(v) > 7 && strings.EqualFold(v[:7], "bearer ") && strings.TrimSpace(v[7:]) == tok
}

func basicIsAlice(v string) bool {
	user, pass, ok := auth.ParseBasic([]byte(v), nil)
	return ok && bytes.Equal(user, []byte("alice")) && bytes.Equal(pass, []byte("wonderland"))
}

// TestCheckWithACachedTokenAllocatesNothing protects the hot path: a
// request with a bearer token the verifier has cached passes the guard,
// credential removal included, without allocating.
func TestCheckWithACachedTokenAllocatesNothing(t *testing.T) {
	g, tok := realGuard(t)
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/x?a=1")
	value := []byte("Bearer " + tok)
	check := func() {
		ctx.Request.Header.SetBytesV("Authorization", value)
		if p, f := g.Check(&ctx); f != nil || p == nil {
			t.Fatalf("refused: %v", f)
		}
	}
	check() // verify once, into the cache
	if n := testing.AllocsPerRun(200, check); n != 0 {
		t.Errorf("Check with a cached token: %v allocations per request, want 0", n)
	}
}

// TestCheckWithCachedBasicCredentialsAllocatesNothing protects the hot
// path of basic auth: a user whose check the store has cached passes the
// guard without allocating.
func TestCheckWithCachedBasicCredentialsAllocatesNothing(t *testing.T) {
	g, _ := realGuard(t)
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/x")
	value := []byte("Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland")))
	check := func() {
		ctx.Request.Header.SetBytesV("Authorization", value)
		if p, f := g.Check(&ctx); f != nil || p == nil {
			t.Fatalf("refused: %v", f)
		}
	}
	check()
	if n := testing.AllocsPerRun(200, check); n != 0 {
		t.Errorf("Check with cached basic credentials: %v allocations per request, want 0", n)
	}
}
