// Package auth is the gateway's authentication guard: who may call a
// resource, decided from the security the build resolved for it
// (spec.Security), with the credentials checked by verifiers:
//
//   - TokenVerifier: bearer JWTs from configured issuers (package jwt),
//   - APIKeyStore: opaque API keys stored in etcd by their SHA-256,
//   - BasicStore: users of an htpasswd file with bcrypt entries,
//   - Revocations: revoked token ids (jti) stored in etcd.
//
// A Guard is compiled once per route; Check runs per request and, on the
// cached path, allocates nothing.
package auth

import (
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// Key types of a credential (micro-gw 3.x's keytype claim).
const (
	Production = "PRODUCTION"
	Sandbox    = "SANDBOX"
)

// Principal is who a request was authenticated as. Verifiers return shared,
// read-only values (cached); never modify one.
type Principal struct {
	// Subject is the token's sub, the API key's application or the basic
	// user name.
	Subject string
	// ID names the credential in logs and /status: the token's jti, or a
	// short hash of the key; never the credential itself.
	ID string
	// JTI is the token's jti claim ("" for none): checked against revocations.
	JTI string
	// Issuer is the token's iss ("" for API keys and basic auth).
	Issuer string
	// KeyType is Production or Sandbox.
	KeyType string
	// Scopes are the token's scopes (scope or scp claim).
	Scopes []string
	// Application is the calling application (the token's application claim).
	Application Application
	// Subscriptions are the token's subscribedAPIs.
	Subscriptions []Subscription
	// ValidateSubscription says the issuer requires Subscriptions to list
	// the API called.
	ValidateSubscription bool
	// Expires is when the credential stops being valid; zero for never.
	Expires time.Time
	// APIs are the APIs an opaque API key may call, by title (the apis of
	// its etcd record); empty allows every API. Other credentials leave it
	// empty and use Subscriptions.
	APIs []string
}

// Application is micro-gw 3.x's application claim.
type Application struct {
	ID, Name, Owner, Tier string
}

// Subscription is one entry of micro-gw 3.x's subscribedAPIs claim.
type Subscription struct {
	Name, Context, Version, Publisher, Tier string
}

// HasScope reports whether p has scope s.
func (p *Principal) HasScope(s string) bool {
	for _, have := range p.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// AllowsAPI reports whether p may call the API with this title: p.APIs is
// empty (every API) or lists it.
func (p *Principal) AllowsAPI(title string) bool {
	if len(p.APIs) == 0 {
		return true
	}
	for _, a := range p.APIs {
		if a == title {
			return true
		}
	}
	return false
}

// Subscribed reports whether p's subscriptions list the API name and
// version (version "" matches any).
func (p *Principal) Subscribed(name, version string) (Subscription, bool) {
	for _, s := range p.Subscriptions {
		if s.Name == name && (version == "" || s.Version == "" || s.Version == version) {
			return s, true
		}
	}
	return Subscription{}, false
}

// TokenVerifier verifies a JWT: signature, algorithm, issuer, audience and
// time claims. It returns the principal, or the fault to answer
// (fault.InvalidCredentials, fault.TokenExpired, fault.AuthUnavailable).
// token is only read during the call; the verifier copies what it keeps.
type TokenVerifier interface {
	Verify(token []byte) (*Principal, *fault.Fault)
}

// APIKeyStore looks up an opaque API key by its SHA-256. ok is false for an
// unknown, revoked or expired key.
type APIKeyStore interface {
	LookupKey(key []byte) (p *Principal, ok bool)
}

// BasicStore checks a user name and password (in constant time per entry).
// user and password are only read during the call: the guard reuses their
// memory.
type BasicStore interface {
	CheckBasic(user, password []byte) (p *Principal, ok bool)
}

// Revocations says whether a token id was revoked.
type Revocations interface {
	Revoked(jti string) bool
}
