package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
)

// minRSABits is the smallest RSA modulus accepted: smaller keys can be
// factored by a determined attacker, and no current issuer uses them.
const minRSABits = 2048

// key is one verification key of an issuer.
type key struct {
	kid string
	// alg is the JWK's alg, when it names one: the key is then used with
	// that algorithm only.
	alg string
	pub crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// fits reports whether k may verify a token signed with alg: the key's type
// (and curve) must be the algorithm's, so that no key is ever used with an
// algorithm it was not made for.
func (k *key) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		_, ok := k.pub.(*rsa.PublicKey)
		return ok
	case "ES256":
		return onCurve(k.pub, elliptic.P256())
	case "ES384":
		return onCurve(k.pub, elliptic.P384())
	case "ES512":
		return onCurve(k.pub, elliptic.P521())
	case "EdDSA":
		_, ok := k.pub.(ed25519.PublicKey)
		return ok
	}
	return false
}

// onCurve reports whether pub is an ECDSA key on curve c.
func onCurve(pub crypto.PublicKey, c elliptic.Curve) bool {
	ec, ok := pub.(*ecdsa.PublicKey)
	return ok && ec.Curve == c
}

// checkPublicKey refuses key types and sizes the verifier does not accept.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("the RSA key has %d bits; use one of %d bits or more", k.N.BitLen(), minRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("the EC key's curve %s is not one of P-256, P-384, P-521", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("the key is a %T; use an RSA, EC (P-256, P-384, P-521) or Ed25519 public key", pub)
}

// loadCertFile reads a PEM public key or certificate (--jwt-cert).
func loadCertFile(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := parsePEMPublicKey(data)
	if err != nil {
		return nil, err
	}
	return pub, checkPublicKey(pub)
}

// parsePEMPublicKey returns the key of the first public key or certificate
// block of data.
func parsePEMPublicKey(data []byte) (crypto.PublicKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM public key or certificate in it; give a file with a 'BEGIN PUBLIC KEY' or 'BEGIN CERTIFICATE' block")
		}
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("its certificate does not parse: %w", err)
			}
			return c.PublicKey, nil
		case b.Type == "PUBLIC KEY":
			pub, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("its public key does not parse: %w", err)
			}
			return pub, nil
		case b.Type == "RSA PUBLIC KEY":
			pub, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("its RSA public key does not parse: %w", err)
			}
			return pub, nil
		case strings.Contains(b.Type, "PRIVATE KEY"):
			return nil, errors.New("it holds a private key; give the issuer's public key or certificate instead, and keep the private key off the gateway")
		}
	}
}

// jwk is one entry of a JWKS document (RFC 7517, 7518, 8037).
type jwk struct {
	Kty string   `json:"kty"`
	Kid string   `json:"kid"`
	Alg string   `json:"alg"`
	Use string   `json:"use"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	Crv string   `json:"crv"`
	X   string   `json:"x"`
	Y   string   `json:"y"`
	X5c []string `json:"x5c"`
}

// jwks is a JWKS document.
type jwks struct {
	Keys []json.RawMessage `json:"keys"`
}

// parseJWKS reads the signature keys of a JWKS document. Keys that cannot
// be used (encryption keys, unknown types, malformed) are skipped and
// reported in skipped; an error means no usable key at all.
func parseJWKS(data []byte) (keys []key, skipped []string, err error) {
	var doc jwks
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("the key set is not JSON: %v", err)
	}
	for i, raw := range doc.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		if j.Use != "" && j.Use != "sig" {
			continue // an encryption key: not ours to use
		}
		pub, err := j.publicKey()
		if err == nil {
			err = checkPublicKey(pub)
		}
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d (kid %q): %v", i, j.Kid, err))
			continue
		}
		keys = append(keys, key{kid: j.Kid, alg: j.Alg, pub: pub})
	}
	if len(keys) == 0 {
		return nil, skipped, fmt.Errorf("the key set has no usable signature key (%d keys listed)", len(doc.Keys))
	}
	return keys, skipped, nil
}

// publicKey decodes the key's public part.
func (j *jwk) publicKey() (crypto.PublicKey, error) {
	switch j.Kty {
	case "RSA":
		if j.N == "" && len(j.X5c) > 0 {
			return j.certKey()
		}
		n, err := b64(j.N, "n")
		if err != nil {
			return nil, err
		}
		e, err := b64(j.E, "e")
		if err != nil {
			return nil, err
		}
		eb := new(big.Int).SetBytes(e)
		if len(n) == 0 || !eb.IsInt64() || eb.Int64() < 3 || eb.Int64() > 1<<31-1 || eb.Bit(0) == 0 {
			return nil, errors.New("the RSA key's n or e is not valid")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(eb.Int64())}, nil
	case "EC":
		if j.X == "" && len(j.X5c) > 0 {
			return j.certKey()
		}
		var c elliptic.Curve
		switch j.Crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("the EC curve %q is not P-256, P-384 or P-521", j.Crv)
		}
		x, err := b64(j.X, "x")
		if err != nil {
			return nil, err
		}
		y, err := b64(j.Y, "y")
		if err != nil {
			return nil, err
		}
		size := (c.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("the EC key's x and y must be %d bytes each", size)
		}
		return ecdsa.ParseUncompressedPublicKey(c, append(append([]byte{4}, x...), y...))
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("the OKP curve %q is not Ed25519", j.Crv)
		}
		x, err := b64(j.X, "x")
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("the Ed25519 key's x must be %d bytes", ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(x), nil
	case "oct":
		return nil, errors.New("it is a symmetric (oct) key; a published key set never holds secrets, so it is not used")
	}
	return nil, fmt.Errorf("key type %q is not RSA, EC or OKP", j.Kty)
}

// certKey reads the key of the first x5c certificate.
func (j *jwk) certKey() (crypto.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(j.X5c[0])
	if err != nil {
		return nil, fmt.Errorf("x5c is not base64: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("x5c does not parse: %v", err)
	}
	return c.PublicKey, nil
}

// b64 decodes a base64url member of a JWK.
func b64(s, name string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("the key's %s is not base64url", name)
	}
	return b, nil
}
