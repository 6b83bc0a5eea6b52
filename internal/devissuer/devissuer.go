// Package devissuer is a throwaway JWT issuer for development and the demo:
// a fresh Ed25519 signing key, its public key as the PEM file the gateway
// reads with --jwt-cert, and tokens in micro-gw 3.x's shape (scope,
// keytype, application, subscribedAPIs, jti). Its keys live only in memory
// and in the folder it is given; never use it in production.
package devissuer

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
)

// Name is the iss of the tokens it mints.
const Name = "https://micro-gw.dev/throwaway-issuer"

// Issuer holds one throwaway signing key.
type Issuer struct {
	key ed25519.PrivateKey
	// CertFile is the public key's PEM file, for --jwt-cert.
	CertFile string
}

// New makes a signing key and writes its public key to dir/dev-issuer.pem.
func New(dir string) (*Issuer, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "dev-issuer.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return nil, fmt.Errorf("write the throwaway issuer's public key: %w", err)
	}
	return &Issuer{key: key, CertFile: file}, nil
}

// Args are the gateway flags that trust the issuer.
func (is *Issuer) Args() []string {
	return []string{"--jwt-issuer=" + Name, "--jwt-cert=" + is.CertFile}
}

// Token describes a token to mint.
type Token struct {
	// Scopes go in the scope claim, space-separated.
	Scopes []string
	// Sandbox mints a SANDBOX token; otherwise PRODUCTION.
	Sandbox bool
	// App names the calling application; "dev" when empty.
	App string
	// AppTier is the application's throttling tier ("" for none).
	AppTier string
	// Lifetime is how long the token is valid; one hour when zero.
	Lifetime time.Duration
	// JTI is the token's id; random when empty.
	JTI string
}

// Mint signs a token.
func (is *Issuer) Mint(t Token) (string, error) {
	if t.App == "" {
		t.App = "dev"
	}
	if t.Lifetime == 0 {
		t.Lifetime = time.Hour
	}
	keyType := "PRODUCTION"
	if t.Sandbox {
		keyType = "SANDBOX"
	}
	if t.JTI == "" {
		var id [8]byte
		if _, err := rand.Read(id[:]); err != nil {
			return "", err
		}
		t.JTI = hex.EncodeToString(id[:])
	}
	now := time.Now()
	app := map[string]any{"id": t.App, "name": t.App, "owner": "developer"}
	if t.AppTier != "" {
		app["tier"] = t.AppTier
	}
	claims := jwtlib.MapClaims{
		"iss": Name, "sub": "developer", "jti": t.JTI,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(t.Lifetime).Unix(),
		"keytype": keyType, "application": app,
	}
	if len(t.Scopes) > 0 {
		claims["scope"] = strings.Join(t.Scopes, " ")
	}
	return jwtlib.NewWithClaims(jwtlib.SigningMethodEdDSA, claims).SignedString(is.key)
}
