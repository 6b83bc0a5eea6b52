package jwt

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// principal checks the verified claims (time, issuer, audience) and reads
// the principal from them. A claim of the wrong type refuses the token:
// the issuer is trusted, so a malformed claim is a configuration mistake
// to surface, not to guess around. why says what failed, for the debug log.
func (v *Verifier) principal(is *issuer, c jwtlib.MapClaims, id string) (p *auth.Principal, f *fault.Fault, why string) {
	exp, f, why := v.checkTime(c)
	if f != nil {
		return nil, f, why
	}
	if iss, err := c.GetIssuer(); err != nil || iss != is.cfg.Issuer {
		return nil, fault.InvalidCredentials, "iss changed between reads"
	}
	if want := is.cfg.Audience; want != "" {
		aud, err := c.GetAudience()
		if err != nil || !contains(aud, want) {
			return nil, fault.InvalidCredentials, fmt.Sprintf("aud does not contain %q", want)
		}
	}
	p = &auth.Principal{Issuer: is.cfg.Issuer, Expires: exp, ValidateSubscription: is.cfg.ValidateSubscription}
	var err error
	if p.Subject, err = c.GetSubject(); err != nil {
		return nil, fault.InvalidCredentials, "sub is not a string"
	}
	if p.JTI, err = optString(c, "jti"); err != nil {
		return nil, fault.InvalidCredentials, err.Error()
	}
	p.ID = p.JTI
	if p.ID == "" {
		p.ID = id
	}
	names := is.cfg.Claims
	if p.KeyType, err = keyType(c, names.KeyType); err != nil {
		return nil, fault.InvalidCredentials, err.Error()
	}
	if p.Scopes, err = scopes(c, names.Scope); err != nil {
		return nil, fault.InvalidCredentials, err.Error()
	}
	if p.Application, err = application(c, names.Application); err != nil {
		return nil, fault.InvalidCredentials, err.Error()
	}
	if p.Subscriptions, err = subscriptions(c, names.SubscribedAPIs); err != nil {
		return nil, fault.InvalidCredentials, err.Error()
	}
	return p, nil, ""
}

// checkTime checks exp (required), nbf and iat against the clock, each
// with the skew, inclusively: a token is still valid at exactly exp+skew.
func (v *Verifier) checkTime(c jwtlib.MapClaims) (exp time.Time, f *fault.Fault, why string) {
	now := v.now()
	e, err := c.GetExpirationTime()
	if err != nil || e == nil {
		// Without exp a token would be valid forever and could not be
		// bounded in the cache or revoked with a lease.
		return exp, fault.InvalidCredentials, "exp is missing or not a number"
	}
	if now.After(e.Add(v.skew)) {
		return exp, fault.TokenExpired, "expired"
	}
	nbf, err := c.GetNotBefore()
	if err != nil {
		return exp, fault.InvalidCredentials, "nbf is not a number"
	}
	if nbf != nil && now.Before(nbf.Add(-v.skew)) {
		return exp, fault.InvalidCredentials, "not valid yet (nbf)"
	}
	iat, err := c.GetIssuedAt()
	if err != nil {
		return exp, fault.InvalidCredentials, "iat is not a number"
	}
	if iat != nil && now.Before(iat.Add(-v.skew)) {
		return exp, fault.InvalidCredentials, "issued in the future (iat)"
	}
	return e.Time, nil, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// optString reads a string claim; absent is "".
func optString(m map[string]any, name string) (string, error) {
	raw, ok := m[name]
	if !ok || raw == nil {
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("claim %s is not a string", name)
	}
	return s, nil
}

// keyType reads the keytype claim: PRODUCTION (the default) or SANDBOX, in
// any case. Anything else refuses the token: guessing could send a sandbox
// caller to production.
func keyType(c jwtlib.MapClaims, name string) (string, error) {
	s, err := optString(c, name)
	switch {
	case err != nil:
		return "", err
	case s == "" && c[name] == nil:
		return auth.Production, nil
	case strings.EqualFold(s, auth.Production):
		return auth.Production, nil
	case strings.EqualFold(s, auth.Sandbox):
		return auth.Sandbox, nil
	}
	return "", fmt.Errorf("claim %s is %q, not PRODUCTION or SANDBOX", name, s)
}

// scopes reads the scope claim (space-separated), else scp (a list, or a
// space-separated string).
func scopes(c jwtlib.MapClaims, name string) ([]string, error) {
	for _, n := range []string{name, "scp"} {
		raw, ok := c[n]
		if !ok || raw == nil {
			continue
		}
		switch v := raw.(type) {
		case string:
			return strings.Fields(v), nil
		case []any:
			out := make([]string, 0, len(v))
			for _, x := range v {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("claim %s lists a scope that is not a string", n)
				}
				out = append(out, s)
			}
			return out, nil
		}
		return nil, fmt.Errorf("claim %s is neither a string nor a list", n)
	}
	return nil, nil
}

// application reads micro-gw 3.x's application claim: {id, name, owner,
// tier}, with id a number or a string.
func application(c jwtlib.MapClaims, name string) (auth.Application, error) {
	var a auth.Application
	raw, ok := c[name]
	if !ok || raw == nil {
		return a, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return a, fmt.Errorf("claim %s is not an object", name)
	}
	switch id := m["id"].(type) {
	case nil:
	case string:
		a.ID = id
	case json.Number:
		a.ID = id.String()
	default:
		return a, fmt.Errorf("claim %s.id is neither a number nor a string", name)
	}
	var err error
	for _, f := range []struct {
		dst  *string
		name string
	}{{&a.Name, "name"}, {&a.Owner, "owner"}, {&a.Tier, "tier"}} {
		if *f.dst, err = optString(m, f.name); err != nil {
			return a, fmt.Errorf("%s.%v", name, err)
		}
	}
	return a, nil
}

// subscriptions reads micro-gw 3.x's subscribedAPIs claim: a list of
// {name, context, version, publisher, subscriptionTier,
// subscriberTenantDomain}.
func subscriptions(c jwtlib.MapClaims, name string) ([]auth.Subscription, error) {
	raw, ok := c[name]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("claim %s is not a list", name)
	}
	out := make([]auth.Subscription, 0, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("claim %s[%d] is not an object", name, i)
		}
		var s auth.Subscription
		for _, f := range []struct {
			dst  *string
			name string
		}{{&s.Name, "name"}, {&s.Context, "context"}, {&s.Version, "version"}, {&s.Publisher, "publisher"}, {&s.Tier, "subscriptionTier"}} {
			var err error
			if *f.dst, err = optString(m, f.name); err != nil {
				return nil, fmt.Errorf("%s[%d]: %v", name, i, err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}
