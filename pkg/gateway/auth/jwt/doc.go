// Package jwt verifies bearer JWTs for the gateway (auth.TokenVerifier):
// signature, algorithm, issuer, audience and time claims, against the keys
// of configured issuers (a PEM certificate or public key, a JWKS URL, or an
// HMAC secret file), and reads micro-gw 3.x's claims (scope, keytype,
// application, subscribedAPIs) into an auth.Principal.
//
// Choices, and why:
//
//   - The issuer's configuration is picked by the token's unverified iss,
//     then the token is verified with that issuer's keys and algorithms
//     only: a key trusted for one issuer never vouches for another.
//   - An algorithm is accepted only with a key of its own type (RSA for
//     RS*/PS*, ECDSA on the algorithm's curve for ES*, Ed25519 for EdDSA, a
//     configured secret for HS*): a public key can never serve as an HMAC
//     secret, and alg none is never accepted.
//   - JWKS documents are parsed with crypto/* and encoding/json: RSA (n, e),
//     EC (crv, x, y) and OKP Ed25519 (x) are small and well defined, and a
//     JOSE library would be a second dependency for forty lines.
//   - Verified tokens are cached until min(exp, +15m), the bound micro-gw
//     3.x used, keyed by a per-process seeded maphash of the token, with
//     the whole token kept and compared on a hit; a hit allocates nothing. Failures are not
//     cached: the cheap ones (malformed, unknown issuer) fail before any
//     signature check, and a failure cache keyed by attacker-chosen bytes
//     would only evict good entries.
//   - Time claims are checked here, not by the JWT library, so that the
//     skew is inclusive (exp + skew is still valid, one second later is
//     not) and an expired token answers TokenExpired, not InvalidCredentials.
package jwt
