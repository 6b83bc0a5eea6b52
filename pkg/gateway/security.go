package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/basic"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/etcdstore"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/jwt"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// SecurityConfig is the gateway's security settings (the Security group of
// package settings).
type SecurityConfig struct {
	// JWTIssuer, JWTAudience, JWTJWKSURL and JWTCert describe one trusted
	// issuer; JWTIssuersFile lists more.
	JWTIssuer, JWTAudience, JWTJWKSURL, JWTCert, JWTIssuersFile string
	JWTClockSkew                                                time.Duration
	JWTValidateSubscription                                     bool
	JWTCacheSize                                                int
	// KeepAuthHeader sends credentials on to the backend.
	KeepAuthHeader bool
	// BasicAuthFile is the htpasswd file of basic-auth users.
	BasicAuthFile string
	// APIKeyPrefix and RevokedPrefix are the etcd prefixes of opaque API
	// keys and of revoked token ids.
	APIKeyPrefix, RevokedPrefix string
}

// what each credential kind needs configured, for the start-up check.
var needs = map[string]struct {
	what, settings string
	has            func(v *auth.Verifiers) bool
}{
	spec.KindOAuth2: {"OAuth2 bearer tokens (JWTs)", "--jwt-issuer with --jwt-jwks-url or --jwt-cert, or --jwt-issuers-file",
		func(v *auth.Verifiers) bool { return v.Tokens != nil }},
	spec.KindBasic: {"basic authentication", "--basic-auth-file (an htpasswd file with bcrypt entries)",
		func(v *auth.Verifiers) bool { return v.Basic != nil }},
	spec.KindAPIKey: {"API keys", "--jwt-issuer (API keys as JWTs) or --etcdurl (opaque keys stored by micro-gw apikey create)",
		func(v *auth.Verifiers) bool { return v.Tokens != nil || v.APIKeys != nil }},
}

// checkAuth refuses a gateway whose protected resources could never be
// called because a credential kind they require has no verifier: it names
// the APIs and the settings to add. It never serves such a resource open.
// An alternative that cannot be satisfied beside one that can is only
// warned about: its requests fail closed (401).
func checkAuth(g *spec.Gateway, v *auth.Verifiers, log *slog.Logger) error {
	missing := map[string]map[string]bool{} // kind -> API titles
	warned := map[string]bool{}
	for i := range g.APIs {
		api := &g.APIs[i]
		for j := range api.Resources {
			sec := api.Resources[j].EffectiveSecurity()
			if sec.Disabled {
				continue
			}
			usable := false
			var lacking []string
			for _, alt := range sec.Alternatives {
				ok := true
				for _, r := range alt {
					if !needs[r.Kind].has(v) {
						ok = false
						lacking = append(lacking, r.Kind)
					}
				}
				usable = usable || ok
			}
			if usable {
				for _, k := range lacking {
					if key := api.Title + "\x00" + k; !warned[key] {
						warned[key] = true
						log.Warn("an API accepts a credential kind the gateway cannot check; requests using it get 401", "api", api.Title, "kind", needs[k].what, "configure", needs[k].settings)
					}
				}
				continue
			}
			for _, k := range lacking {
				if missing[k] == nil {
					missing[k] = map[string]bool{}
				}
				missing[k][api.Title] = true
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var msgs []string
	for _, k := range []string{spec.KindOAuth2, spec.KindAPIKey, spec.KindBasic} {
		if missing[k] == nil {
			continue
		}
		var titles []string
		for t := range missing[k] {
			titles = append(titles, fmt.Sprintf("%q", t))
		}
		sort.Strings(titles)
		msg := fmt.Sprintf("APIs %s require %s but none can be checked: set %s", strings.Join(titles, ", "), needs[k].what, needs[k].settings)
		if k == spec.KindOAuth2 {
			msg += " (OAuth2 is micro-gw 3.x's default for a definition that declares no security; to serve an API open, add x-wso2-disable-security: true to its definition and rebuild)"
		}
		msgs = append(msgs, msg)
	}
	return fmt.Errorf("the gateway would refuse every request to protected APIs, so it does not start: %s", strings.Join(msgs, "; "))
}

// checkSecurity refuses security settings that cannot work, naming the flag.
func checkSecurity(s SecurityConfig) error {
	if s.JWTClockSkew < 0 || s.JWTClockSkew > auth.MaxClockSkew {
		return fmt.Errorf("--jwt-clock-skew=%s: use a duration from 0 to %s (micro-gw 3.x allowed 5s)", s.JWTClockSkew, auth.MaxClockSkew)
	}
	if s.JWTCacheSize < 0 {
		return fmt.Errorf("--jwt-cache-size=%d: must not be negative (0 takes the default, %s)", s.JWTCacheSize, settings.Named("jwt-cache-size").Default)
	}
	if (s.JWTAudience != "" || s.JWTJWKSURL != "" || s.JWTCert != "") && s.JWTIssuer == "" {
		return errors.New("--jwt-audience, --jwt-jwks-url and --jwt-cert describe the issuer of --jwt-issuer: set --jwt-issuer too (the iss claim to accept)")
	}
	if s.JWTIssuer != "" && s.JWTJWKSURL == "" && s.JWTCert == "" {
		return fmt.Errorf("--jwt-issuer=%q has no key to verify with: set --jwt-jwks-url or --jwt-cert", s.JWTIssuer)
	}
	for _, p := range []struct{ flag, v string }{{"apikey-prefix", s.APIKeyPrefix}, {"revoked-prefix", s.RevokedPrefix}} {
		if p.v == "" || !strings.HasSuffix(p.v, "/") {
			return fmt.Errorf("--%s=%q: give an etcd key prefix ending in /", p.flag, p.v)
		}
	}
	return etcdstore.CheckPrefixes(s.APIKeyPrefix, s.RevokedPrefix)
}

// verifiers builds the credential checkers the settings configure. JWKS
// fetching, the htpasswd re-read and the etcd watches run until ctx ends.
// The caller builds them only when some resource is protected; checkAuth
// then refuses a gateway whose protected APIs need one the settings do not
// configure.
func (gw *Server) verifiers(ctx context.Context, cfg Config) (*auth.Verifiers, error) {
	s := cfg.Security
	v := &auth.Verifiers{KeepCredentials: s.KeepAuthHeader}
	var issuers []jwt.Issuer
	if s.JWTIssuer != "" {
		issuers = append(issuers, jwt.Issuer{Issuer: s.JWTIssuer, Audience: s.JWTAudience, JWKSURL: s.JWTJWKSURL,
			CertFile: s.JWTCert, ValidateSubscription: s.JWTValidateSubscription})
	}
	if s.JWTIssuersFile != "" {
		more, err := jwt.LoadIssuersFile(s.JWTIssuersFile)
		if err != nil {
			return nil, fmt.Errorf("--jwt-issuers-file: %w", err)
		}
		issuers = append(issuers, more...)
	}
	if len(issuers) > 0 {
		tv, err := jwt.New(ctx, jwt.Options{Issuers: issuers, ClockSkew: s.JWTClockSkew, CacheSize: s.JWTCacheSize,
			Logger: gw.log.With("component", "jwt")})
		if err != nil {
			return nil, err
		}
		v.Tokens, gw.tokens = tv, tv
	}
	if s.BasicAuthFile != "" {
		bs, err := basic.New(s.BasicAuthFile, basic.Options{Logger: gw.log.With("component", "basic-auth")})
		if err != nil {
			return nil, err
		}
		go bs.Run(ctx)
		v.Basic, gw.basic = bs, bs
	}
	if gw.resolver != nil {
		es, err := etcdstore.New(gw.resolver, etcdstore.Options{APIKeyPrefix: s.APIKeyPrefix, RevokedPrefix: s.RevokedPrefix,
			Logger: gw.log.With("component", "auth-etcd")})
		if err != nil {
			return nil, err
		}
		v.APIKeys, v.Revoked = es, es
		gw.authStore = es
	}
	return v, nil
}

// protected reports whether any resource of g is not served open.
func protected(g *spec.Gateway) bool {
	for i := range g.APIs {
		for j := range g.APIs[i].Resources {
			if !g.APIs[i].Resources[j].EffectiveSecurity().Disabled {
				return true
			}
		}
	}
	return false
}
