package jwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"github.com/micro-gw/micro-gw/internal/jwktest"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// Keys generated once for the package's tests: real keys of every type.
var (
	keysOnce                sync.Once
	rsaA, rsaB              *rsa.PrivateKey
	ecP256, ecP384, ecP256b *ecdsa.PrivateKey
	edKey                   ed25519.PrivateKey
	hmacSecret              = []byte("0123456789abcdef0123456789abcdef-shared")
	testIssuer              = "https://idp.test/oauth2/token"
	epoch                   = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

func genKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil {
				err = e
			}
		}
		rsaA, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsaB, _ = rsa.GenerateKey(rand.Reader, 2048)
		ecP256, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ecP256b, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ecP384, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		_, edKey, err = ed25519.GenerateKey(rand.Reader)
		must(err)
		if err != nil {
			panic(err)
		}
	})
}

// clock is the injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: epoch} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuf collects log lines; safe for the fetchers' goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// claims returns micro-gw-like claims valid at epoch for an hour.
func claims(extra ...any) jwtlib.MapClaims {
	c := jwtlib.MapClaims{
		"iss": testIssuer,
		"sub": "alice",
		"iat": epoch.Unix(),
		"exp": epoch.Add(time.Hour).Unix(),
		"jti": randomID(),
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

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign makes a token; kid "" leaves the header without one.
func sign(t testing.TB, m jwtlib.SigningMethod, k any, kid string, c jwtlib.MapClaims) []byte {
	t.Helper()
	tok := jwtlib.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return []byte(s)
}

// jwkOf renders a public key as a JWK.
func jwkOf(t testing.TB, kid string, pub crypto.PublicKey) map[string]any {
	t.Helper()
	k, err := jwktest.JWK(kid, pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeFile writes a file in the test's folder and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// pemPublic renders a public key as PEM.
func pemPublic(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// harness is a verifier under test with its clock and logs.
type harness struct {
	v     *Verifier
	clock *clock
	logs  *logBuf
	// tokens are checked never to appear in the logs.
	tokens [][]byte
}

// newHarness starts a verifier; o.Now and o.Logger are set by it.
func newHarness(t testing.TB, o Options) *harness {
	t.Helper()
	genKeys(t)
	h := &harness{clock: newClock(), logs: &logBuf{}}
	if o.Now == nil {
		o.Now = h.clock.Now
	}
	o.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := New(ctx, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.v = v
	t.Cleanup(func() {
		logs := h.logs.String()
		for _, tok := range h.tokens {
			if len(tok) < 16 {
				continue // too short to tell apart from other text
			}
			sig := sigOf(tok)
			if strings.Contains(logs, string(tok)) || len(sig) >= 16 && strings.Contains(logs, sig) {
				t.Errorf("a token was logged:\n%s", logs)
				return
			}
		}
	})
	return h
}

// sigOf is a token's signature part, which alone must never be logged either.
func sigOf(tok []byte) string {
	s := string(tok)
	return s[strings.LastIndexByte(s, '.')+1:]
}

// verify verifies tok, remembering it for the log check.
func (h *harness) verify(tok []byte) (*auth.Principal, *fault.Fault) {
	h.tokens = append(h.tokens, tok)
	return h.v.Verify(tok)
}

// accept verifies tok and fails the test unless it is accepted.
func (h *harness) accept(t testing.TB, tok []byte) *auth.Principal {
	t.Helper()
	p, f := h.verify(tok)
	if f != nil {
		t.Fatalf("token refused with %d (%s); logs:\n%s", f.Code, f.Message, h.logs.String())
	}
	return p
}

// refuse verifies tok and fails the test unless it gets fault want.
func (h *harness) refuse(t testing.TB, tok []byte, want *fault.Fault) {
	t.Helper()
	p, f := h.verify(tok)
	if f != want {
		got := "accepted"
		if f != nil {
			got = fmt.Sprintf("%d %s", f.Code, f.Message)
		}
		t.Fatalf("got %s (principal %+v), want %d %s", got, p, want.Code, want.Message)
	}
}

func mustRSA(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func bigOne() *big.Int { return big.NewInt(1) }

func randReader() io.Reader { return rand.Reader }
