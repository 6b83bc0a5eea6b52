package jwt

import (
	"sort"
	"time"
)

// IssuerStatus is one trusted issuer as /status shows it: where its keys
// come from and, for a JWKS URL, how many keys it holds and when it last
// fetched them. Never a key or a secret.
type IssuerStatus struct {
	Issuer   string `json:"issuer"`
	Audience string `json:"audience,omitempty"`
	// Cert and HMAC say the issuer has a certificate file and a shared secret.
	Cert bool `json:"cert,omitempty"`
	HMAC bool `json:"hmac,omitempty"`
	// JWKSURL is shown without its credentials (endpoint.Redact).
	JWKSURL string `json:"jwks_url,omitempty"`
	// JWKSKeys is the number of keys of the last good key set; JWKSLoaded
	// is false until a first one arrived (tokens of an issuer without
	// another key are refused with 900900 until then).
	JWKSKeys    int       `json:"jwks_keys,omitempty"`
	JWKSLoaded  bool      `json:"jwks_loaded,omitempty"`
	JWKSFetched time.Time `json:"jwks_fetched,omitzero"`
	JWKSError   string    `json:"jwks_error,omitempty"`
	// ValidateSubscription says subscribedAPIs must list the API.
	ValidateSubscription bool `json:"validate_subscription,omitempty"`
}

// Status reports every issuer, sorted by name.
func (v *Verifier) Status() []IssuerStatus {
	out := make([]IssuerStatus, 0, len(v.issuers))
	for _, is := range v.issuers {
		st := IssuerStatus{Issuer: is.cfg.Issuer, Audience: is.cfg.Audience, Cert: is.cert != nil, HMAC: is.secret != nil,
			ValidateSubscription: is.cfg.ValidateSubscription}
		if s := is.jwks; s != nil {
			st.JWKSURL = s.shown
			if set := s.set.Load(); set != nil {
				st.JWKSLoaded, st.JWKSKeys = true, len(set.keys)
			}
			s.mu.Lock()
			st.JWKSFetched, st.JWKSError = s.lastGood, s.lastErr
			s.mu.Unlock()
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Issuer < out[j].Issuer })
	return out
}
