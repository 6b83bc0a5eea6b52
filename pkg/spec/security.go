package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Credential kinds a security requirement asks for.
const (
	// KindOAuth2 is a bearer JWT from a configured issuer, with scopes:
	// OpenAPI oauth2 and openIdConnect schemes, http bearer, and micro-gw
	// 3.x's default for an API that declares no security.
	KindOAuth2 = "oauth2"
	// KindAPIKey is an API key in a named header or query parameter: a JWT
	// from a configured issuer, or an opaque key stored in etcd.
	KindAPIKey = "apikey"
	// KindBasic is HTTP basic authentication against the htpasswd file.
	KindBasic = "basic"
)

// Where an API key is sent (OpenAPI apiKey "in").
const (
	InHeader = "header"
	InQuery  = "query"
)

// Mutual TLS modes (x-wso2-mutual-ssl).
const (
	MutualSSLMandatory = "mandatory"
	MutualSSLOptional  = "optional"
)

// DefaultAuthHeader is the header a bearer token is read from unless
// x-wso2-auth-header names another.
const DefaultAuthHeader = "Authorization"

// Security is the effective security of one resource, as the build
// resolved it from OpenAPI security, the x-wso2-* extensions and micro-gw
// 3.x's default. The gateway enforces exactly this.
//
// A nil *Security on a resource means the default: an OAuth2 bearer token
// (micro-gw 3.x's rule); nothing is served open unless Disabled says so.
type Security struct {
	// Disabled serves the resource open: x-wso2-disable-security: true.
	Disabled bool `json:"disabled,omitempty"`
	// Default says the definition declared no security, so the resource
	// requires an OAuth2 bearer token as in micro-gw 3.x. Alternatives
	// then holds that one requirement.
	Default bool `json:"default,omitempty"`
	// Optional lets a request without any credential through
	// (x-wso2-application-security optional: true). A request that
	// presents a credential must still present a valid one.
	Optional bool `json:"optional,omitempty"`
	// Alternatives are OR'ed; the requirements inside one are AND'ed.
	Alternatives [][]Requirement `json:"alternatives,omitempty"`
	// AuthHeader is the header a bearer token is read from
	// (x-wso2-auth-header); empty means DefaultAuthHeader.
	AuthHeader string `json:"authHeader,omitempty"`
	// MutualSSL is "", MutualSSLMandatory or MutualSSLOptional.
	MutualSSL string `json:"mutualSSL,omitempty"`
}

// Requirement is one scheme of a security requirement.
type Requirement struct {
	// Scheme is the name the definition gives the scheme.
	Scheme string `json:"scheme"`
	// Kind is KindOAuth2, KindAPIKey or KindBasic.
	Kind string `json:"kind"`
	// In and Name say where an API key is sent: InHeader or InQuery, and
	// the header or parameter name.
	In   string `json:"in,omitempty"`
	Name string `json:"name,omitempty"`
	// Scopes must all be in an OAuth2 token.
	Scopes []string `json:"scopes,omitempty"`
}

// DefaultSecurity is what a resource without declared security requires.
func DefaultSecurity() *Security {
	return &Security{Default: true, Alternatives: [][]Requirement{{{Scheme: "default", Kind: KindOAuth2}}}}
}

// EffectiveSecurity returns the security that guards r: its own, else the
// default. Never nil.
func (r *Resource) EffectiveSecurity() *Security {
	if r.Security != nil {
		return r.Security
	}
	return DefaultSecurity()
}

// NeedsJWT reports whether some alternative of s requires an OAuth2
// bearer token (a JWT).
func (s *Security) NeedsJWT() bool {
	if s.Disabled {
		return false
	}
	for _, alt := range s.Alternatives {
		for _, r := range alt {
			if r.Kind == KindOAuth2 {
				return true
			}
		}
	}
	return false
}

// CanBeSandbox reports whether a request passing s can carry a SANDBOX
// credential: some alternative takes a JWT or an API key and no basic
// auth, whose users are always PRODUCTION (the credentials of one
// alternative must agree on their key type).
func (s *Security) CanBeSandbox() bool {
	if s.Disabled {
		return false
	}
	for _, alt := range s.Alternatives {
		if len(alt) > 0 && !slices.ContainsFunc(alt, func(r Requirement) bool { return r.Kind == KindBasic }) {
			return true
		}
	}
	return false
}

// String describes s in one line for the build's output and /status:
// "open (x-wso2-disable-security)", "oauth2 (default, ...)", or the
// alternatives as "oauth2[read:pets] | apikey(header X-API-Key) + basic".
func (s *Security) String() string {
	if s.Disabled {
		return "open (x-wso2-disable-security)"
	}
	var alts []string
	for _, alt := range s.Alternatives {
		var reqs []string
		for _, r := range alt {
			reqs = append(reqs, r.String())
		}
		alts = append(alts, strings.Join(reqs, " + "))
	}
	out := strings.Join(alts, " | ")
	if s.Default {
		out += " (default, as micro-gw 3.x; add x-wso2-disable-security: true to serve it open)"
	}
	if s.Optional {
		out += " (optional: requests without credentials pass)"
	}
	if s.MutualSSL != "" {
		out += "; mutual TLS " + s.MutualSSL
	}
	return out
}

// String describes one requirement: "oauth2[a b]", "apikey(header X-Key)", "basic".
func (r Requirement) String() string {
	switch r.Kind {
	case KindAPIKey:
		return "apikey(" + r.In + " " + r.Name + ")"
	case KindOAuth2:
		if len(r.Scopes) > 0 {
			return "oauth2[" + strings.Join(r.Scopes, " ") + "]"
		}
	}
	return r.Kind
}

// SecuritySummary describes the effective security of every resource of a
// in one line, for the build's output: the one security when all
// resources share it, else each distinct one with its operations, the
// most common last as "N others" so that an API of many operations stays
// one short line.
func (a *API) SecuritySummary() string {
	type group struct {
		desc string
		ops  []string
	}
	var groups []*group
	byDesc := map[string]*group{}
	for i := range a.Resources {
		r := &a.Resources[i]
		d := r.EffectiveSecurity().String()
		g, ok := byDesc[d]
		if !ok {
			g = &group{desc: d}
			byDesc[d] = g
			groups = append(groups, g)
		}
		g.ops = append(g.ops, r.Method+" "+r.Path)
	}
	switch len(groups) {
	case 0:
		return "no operations"
	case 1:
		return groups[0].desc
	}
	// The largest group (the first of equals) goes last, counted, when
	// naming its operations would take more room than counting them.
	big := 0
	for i, g := range groups {
		if len(g.ops) > len(groups[big].ops) {
			big = i
		}
	}
	rest := groups
	if len(groups[big].ops) > 2 {
		rest = slices.Delete(slices.Clone(groups), big, big+1)
	} else {
		big = -1
	}
	var parts []string
	for i, g := range rest {
		if i == maxSummaryGroups {
			n := 0
			for _, h := range rest[i:] {
				n += len(h.ops)
			}
			parts = append(parts, fmt.Sprintf("%d more operations with other security", n))
			break
		}
		parts = append(parts, opsList(g.ops)+": "+g.desc)
	}
	if big >= 0 {
		parts = append(parts, fmt.Sprintf("%d others: %s", len(groups[big].ops), groups[big].desc))
	}
	return strings.Join(parts, "; ")
}

// maxSummaryGroups bounds the distinct securities SecuritySummary lists
// besides the most common one.
const maxSummaryGroups = 4

// opsList names up to two operations and counts the rest.
func opsList(ops []string) string {
	if len(ops) <= 2 {
		return strings.Join(ops, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ops[:2], ", "), len(ops)-2)
}
