package jwt

import (
	"bytes"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds arbitrary bytes to Verify: it must never panic, and it
// must accept nothing but the valid tokens it was seeded with. RS256 and
// HS256 signatures are deterministic, so a token accepted with a signing
// input (header.claims) other than a seed's would be a forgery. Seeds are
// deterministic (fixed jti; RSA keys differ per process, so only the
// HMAC seed verifies in every fuzzing worker).
func FuzzVerify(f *testing.F) {
	genKeys(f)
	hs := writeFile(f, "hs", hmacSecret)
	cert := writeFile(f, "pub.pem", pemPublic(f, &rsaA.PublicKey))
	h := newHarness(f, Options{Issuers: []Issuer{
		{Issuer: testIssuer, CertFile: cert, Audience: "gw"},
		{Issuer: "https://hs.test", HMACSecretFile: hs},
	}, ClockSkew: 5 * time.Second})

	valid := [][]byte{
		sign(f, jwtlib.SigningMethodRS256, rsaA, "", claims("jti", "seed-1", "aud", "gw", "scope", "a b", "keytype", "SANDBOX")),
		sign(f, jwtlib.SigningMethodPS256, rsaA, "kid-1", claims("jti", "seed-2", "aud", []string{"gw"}, "scp", []string{"x"},
			"application", map[string]any{"id": 1}, "subscribedAPIs", []map[string]any{{"name": "p"}})),
		sign(f, jwtlib.SigningMethodHS256, hmacSecret, "", claims("jti", "seed-3", "iss", "https://hs.test")),
	}
	signingInputs := map[string]bool{}
	for _, tok := range valid {
		if _, flt := h.v.Verify(tok); flt != nil {
			f.Fatalf("seed token refused: %s", flt.Message)
		}
		signingInputs[string(tok[:bytes.LastIndexByte(tok, '.')])] = true
		f.Add(tok)
		// Mangled: flipped bytes, cut, extra parts, alg swapped to none and HS256.
		for _, i := range []int{0, 5, len(tok) / 2, len(tok) - 2} {
			m := bytes.Clone(tok)
			m[i] ^= 0x01
			f.Add(m)
		}
		f.Add(tok[:len(tok)-10])
		f.Add(append(bytes.Clone(tok), ".x"...))
	}
	f.Add(sign(f, jwtlib.SigningMethodNone, jwtlib.UnsafeAllowNoneSignatureType, "", claims("aud", "gw")))
	f.Add(sign(f, jwtlib.SigningMethodHS256, pemPublic(f, &rsaA.PublicKey), "", claims("aud", "gw")))
	f.Add([]byte("eyJhbGciOiJSUzI1NiJ9.e30."))
	f.Add([]byte(".."))

	f.Fuzz(func(t *testing.T, tok []byte) {
		p, flt := h.v.Verify(tok)
		if flt != nil {
			if p != nil {
				t.Fatal("a fault came with a principal")
			}
			return
		}
		dot := bytes.LastIndexByte(tok, '.')
		if dot < 0 || !signingInputs[string(tok[:dot])] {
			t.Fatalf("accepted a token that was not seeded as valid: %q", tok)
		}
		if p == nil || p.Issuer == "" || p.Expires.IsZero() {
			t.Fatalf("accepted with principal %+v", p)
		}
	})
}
