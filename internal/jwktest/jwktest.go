// Package jwktest renders test keys as JWKs, for the tests that publish a
// real JWKS document on loopback.
package jwktest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
)

// JWK renders a public key (RSA, ECDSA or Ed25519) as a JWK named kid.
func JWK(kid string, pub crypto.PublicKey) (map[string]any, error) {
	enc := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		e, err := k.ECDH()
		if err != nil {
			return nil, err
		}
		b := e.Bytes()[1:]
		return map[string]any{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name, "x": enc(b[:len(b)/2]), "y": enc(b[len(b)/2:])}, nil
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": enc(k)}, nil
	}
	return nil, fmt.Errorf("no JWK for %T", pub)
}
