package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/micro-gw/micro-gw/internal/gwproc"
)

// shopDefinition is a micro-gw 3.x style definition: OAuth2 scopes at
// document and operation level, an apiKey scheme, basic auth, an OR of two
// schemes, and x-wso2-disable-security on one operation.
const shopDefinition = `openapi: 3.0.3
info: {title: Shop, version: "1.0.0"}
x-wso2-basePath: /shop
x-wso2-production-endpoints:
  urls: [BACKEND/v1]
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://idp.test/token
          scopes: {read:orders: read, write:orders: write}
    key: {type: apiKey, in: header, name: X-API-Key}
    basicAuth: {type: http, scheme: basic}
security:
  - oauth: [read:orders]
paths:
  /orders:
    get:
      responses: {'200': {description: ok}}
    post:
      security: [{oauth: [write:orders]}]
      responses: {'200': {description: ok}}
  /keyed:
    get:
      security: [{key: []}]
      responses: {'200': {description: ok}}
  /admin:
    get:
      security: [{basicAuth: []}]
      responses: {'200': {description: ok}}
  /either:
    get:
      security: [{oauth: []}, {basicAuth: []}]
      responses: {'200': {description: ok}}
  /ping:
    get:
      x-wso2-disable-security: true
      responses: {'200': {description: ok}}
`

// legacyDefinition declares no security: micro-gw 3.x protected it with
// OAuth2, and so do we.
const legacyDefinition = `openapi: 3.0.3
info: {title: Legacy, version: "1"}
x-wso2-basePath: /legacy
x-wso2-production-endpoints:
  urls: [BACKEND/v1]
paths:
  /items:
    get:
      responses: {'200': {description: ok}}
`

// TestCompiledGatewayEnforcesDeclaredSecurity builds a project with the
// real CLI and runs the compiled gateway: each operation's security is
// enforced exactly as declared, nothing is open unless the definition says
// so, and without an issuer the gateway refuses to start, naming the APIs
// and the settings.
func TestCompiledGatewayEnforcesDeclaredSecurity(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a gateway")
	}
	backend := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "backend %s %s auth=%q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go backend.Serve(ln)
	defer backend.Close()

	dir := t.TempDir()
	proj := filepath.Join(dir, "shop")
	defs := filepath.Join(proj, "api_definitions")
	if err := os.MkdirAll(defs, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, def := range map[string]string{"shop.yaml": shopDefinition, "legacy.yaml": legacyDefinition} {
		def = strings.ReplaceAll(def, "BACKEND", "http://"+ln.Addr().String())
		if err := os.WriteFile(filepath.Join(defs, name), []byte(def), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := micro("build", proj)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"legacy: oauth2 (default, as micro-gw 3.x; add x-wso2-disable-security: true to serve it open)",
		"shop: GET /admin: basic; GET /either: oauth2 | basic; GET /keyed: apikey(header X-API-Key); GET /orders: oauth2[read:orders]",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("build output lacks %q:\n%s", want, stdout)
		}
	}
	exe := filepath.Join(proj, "target", "shop")

	// The issuer's key, its certificate file, and the htpasswd file.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	cert := filepath.Join(dir, "issuer.pem")
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	users := filepath.Join(dir, "users.htpasswd")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(users, []byte("admin:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const iss = "https://idp.test/token"
	token := func(scope string) string {
		now := time.Now()
		s, err := jwtlib.NewWithClaims(jwtlib.SigningMethodEdDSA, jwtlib.MapClaims{"iss": iss, "sub": "alice", "scope": scope,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": fmt.Sprint(now.UnixNano())}).SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// Without an issuer: refused at start, naming the APIs and the settings.
	_, err = gwproc.Start(context.Background(), exe, gwproc.Options{Args: []string{"--basic-auth-file=" + users}, Timeout: time.Minute})
	if err == nil {
		t.Fatal("the gateway started without a JWT issuer")
	}
	for _, want := range []string{"gateway cannot start", `Legacy\"`, `Shop\"`, "--jwt-issuer", "--jwt-jwks-url", "--jwt-cert", "--jwt-issuers-file", "x-wso2-disable-security"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start error lacks %s:\n%v", want, err)
		}
	}

	gw, err := gwproc.Start(context.Background(), exe, gwproc.Options{Timeout: time.Minute,
		Args: []string{"--jwt-issuer=" + iss, "--jwt-cert=" + cert, "--basic-auth-file=" + users}})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Stop(10 * time.Second)
	read, write, none := token("read:orders"), token("read:orders write:orders"), token("")
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))
	wrongBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:guess"))
	for _, c := range []struct {
		method, path, header, value string
		status, code                int
	}{
		{"GET", "/shop/orders", "", "", 401, 900902},
		{"GET", "/shop/orders", "Authorization", "Bearer " + read, 200, 0},
		{"GET", "/shop/orders", "Authorization", "Bearer " + none, 403, 900910},
		{"POST", "/shop/orders", "Authorization", "Bearer " + read, 403, 900910},
		{"POST", "/shop/orders", "Authorization", "Bearer " + write, 200, 0},
		{"GET", "/shop/orders", "Authorization", basic, 401, 900917},
		{"GET", "/shop/keyed", "X-API-Key", none, 200, 0},
		{"GET", "/shop/keyed", "Authorization", "Bearer " + read, 401, 900902},
		{"GET", "/shop/keyed", "X-API-Key", "not-a-key", 401, 900901}, // no etcd: no opaque key is valid here
		{"GET", "/shop/admin", "Authorization", basic, 200, 0},
		{"GET", "/shop/admin", "Authorization", wrongBasic, 401, 900911},
		{"GET", "/shop/admin", "Authorization", "Bearer " + write, 401, 900917},
		{"GET", "/shop/either", "Authorization", basic, 200, 0},
		{"GET", "/shop/either", "Authorization", "Bearer " + none, 200, 0},
		{"GET", "/shop/either", "", "", 401, 900902},
		{"GET", "/shop/ping", "", "", 200, 0},
		{"GET", "/legacy/items", "", "", 401, 900902},
		{"GET", "/legacy/items", "Authorization", "Bearer " + none, 200, 0},
	} {
		req, _ := http.NewRequest(c.method, gw.HTTP+c.path, nil)
		if c.header != "" {
			req.Header.Set(c.header, c.value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var f struct {
			Fault struct{ Code int } `json:"fault"`
		}
		json.Unmarshal(b, &f)
		if resp.StatusCode != c.status || f.Fault.Code != c.code {
			t.Errorf("%s %s with %s: %d %s, want %d fault %d", c.method, c.path, c.header, resp.StatusCode, b, c.status, c.code)
		}
		if c.status == 200 && (!strings.HasPrefix(string(b), "backend ") || strings.Contains(string(b), "Bearer") || strings.Contains(string(b), "Basic")) {
			t.Errorf("%s %s: backend answer %q; want it reached, without the credential", c.method, c.path, b)
		}
	}
	if strings.Contains(gw.Log.String(), read) || strings.Contains(gw.Log.String(), "s3cret") {
		t.Errorf("the gateway logged a credential:\n%s", gw.Log)
	}
}
