package jwt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// Issuer is one trusted token issuer. At least one of JWKSURL, CertFile and
// HMACSecretFile gives its keys.
type Issuer struct {
	// Issuer is the iss its tokens carry, compared exactly.
	Issuer string
	// Audience, when set, must be one of the token's aud values.
	Audience string
	// JWKSURL is its JSON Web Key Set: https://, or http:// on loopback.
	JWKSURL string
	// CertFile is a PEM public key or certificate to verify with.
	CertFile string
	// HMACSecretFile holds a shared secret (32 bytes at least). Only with
	// it are HS256/384/512 accepted for this issuer.
	HMACSecretFile string
	// ValidateSubscription requires the token's subscribedAPIs to list the
	// API called (the guard checks it; the verifier passes it on).
	ValidateSubscription bool
	// Claims renames the claims read from its tokens; empty names keep
	// micro-gw 3.x's.
	Claims ClaimNames

	// origin names where the issuer was configured ("issuers.yaml:3"), for
	// errors; empty for one given by settings.
	origin string
}

// ClaimNames are the names of the claims the principal is read from.
type ClaimNames struct {
	Scope          string // default "scope" (space-separated; "scp" is also read)
	KeyType        string // default "keytype"
	Application    string // default "application"
	SubscribedAPIs string // default "subscribedAPIs"
}

// withDefaults fills the empty names with micro-gw 3.x's.
func (c ClaimNames) withDefaults() ClaimNames {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Scope, "scope")
	def(&c.KeyType, "keytype")
	def(&c.Application, "application")
	def(&c.SubscribedAPIs, "subscribedAPIs")
	return c
}

// name says which issuer an error is about.
func (is *Issuer) name() string {
	if is.origin != "" {
		return fmt.Sprintf("%s: issuer %q", is.origin, is.Issuer)
	}
	return fmt.Sprintf("issuer %q", is.Issuer)
}

// LoadIssuersFile reads a YAML list of issuers (--jwt-issuers-file):
//
//   - issuer: https://idp.example.com/oauth2/token
//     audience: my-gateway
//     jwks_url: https://idp.example.com/jwks
//     cert: idp.pem                # relative paths are from the file's folder
//     hmac_secret_file: hs.secret
//     validate_subscription: true
//     claims: {scope: scp, keytype: keytype, application: application, subscribed_apis: subscribedAPIs}
//
// Errors name the file and line, and what to change. Key material is read
// and checked by New.
func LoadIssuersFile(path string) ([]Issuer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the JWT issuers file: %w; check --jwt-issuers-file", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v; the file must be a YAML list of issuers", path, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == 0 || root.Kind == yaml.DocumentNode {
		return nil, fmt.Errorf("%s: the file is empty; list at least one issuer (- issuer: ..., jwks_url: ...)", path)
	}
	if root.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: expected a list of issuers (lines starting with '- issuer:'), found %s", path, root.Line, kindName(root))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s:%d: the list of issuers is empty; add at least one", path, root.Line)
	}
	dir := filepath.Dir(path)
	issuers := make([]Issuer, 0, len(root.Content))
	seen := map[string]int{}
	for _, n := range root.Content {
		is, err := issuerFromNode(path, dir, n)
		if err != nil {
			return nil, err
		}
		if line, dup := seen[is.Issuer]; dup {
			return nil, fmt.Errorf("%s:%d: issuer %q is already listed at line %d; merge the two entries", path, n.Line, is.Issuer, line)
		}
		seen[is.Issuer] = n.Line
		issuers = append(issuers, is)
	}
	return issuers, nil
}

// issuerFields are the keys of one entry of the issuers file.
const issuerFields = "issuer, audience, jwks_url, cert, hmac_secret_file, validate_subscription, claims"

// issuerFromNode reads one entry of the issuers file.
func issuerFromNode(path, dir string, n *yaml.Node) (Issuer, error) {
	is := Issuer{origin: fmt.Sprintf("%s:%d", path, n.Line)}
	if n.Kind != yaml.MappingNode {
		return is, fmt.Errorf("%s:%d: expected an issuer (a mapping with %s), found %s", path, n.Line, issuerFields, kindName(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "issuer":
			is.Issuer, err = scalar(path, k, v)
		case "audience":
			is.Audience, err = scalar(path, k, v)
		case "jwks_url":
			is.JWKSURL, err = scalar(path, k, v)
		case "cert":
			is.CertFile, err = scalar(path, k, v)
			is.CertFile = relativeTo(dir, is.CertFile)
		case "hmac_secret_file":
			is.HMACSecretFile, err = scalar(path, k, v)
			is.HMACSecretFile = relativeTo(dir, is.HMACSecretFile)
		case "validate_subscription":
			var s string
			if s, err = scalar(path, k, v); err == nil {
				is.ValidateSubscription, err = boolValue(path, v, s)
			}
		case "claims":
			is.Claims, err = claimsFromNode(path, v)
		default:
			err = fmt.Errorf("%s:%d: unknown field %q; an issuer has %s", path, k.Line, k.Value, issuerFields)
		}
		if err != nil {
			return is, err
		}
	}
	if is.Issuer == "" {
		return is, fmt.Errorf("%s:%d: this entry has no issuer; add 'issuer: <the iss claim of its tokens>'", path, n.Line)
	}
	if is.JWKSURL == "" && is.CertFile == "" && is.HMACSecretFile == "" {
		return is, fmt.Errorf("%s:%d: issuer %q has no keys; add jwks_url, cert or hmac_secret_file", path, n.Line, is.Issuer)
	}
	return is, nil
}

// claimsFields are the keys of an issuer's claims mapping.
const claimsFields = "scope, keytype, application, subscribed_apis"

// claimsFromNode reads an issuer's claim names.
func claimsFromNode(path string, n *yaml.Node) (ClaimNames, error) {
	var c ClaimNames
	if n.Kind != yaml.MappingNode {
		return c, fmt.Errorf("%s:%d: claims must be a mapping with %s, found %s", path, n.Line, claimsFields, kindName(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "scope":
			dst = &c.Scope
		case "keytype":
			dst = &c.KeyType
		case "application":
			dst = &c.Application
		case "subscribed_apis":
			dst = &c.SubscribedAPIs
		default:
			return c, fmt.Errorf("%s:%d: unknown claim name field %q; claims has %s", path, k.Line, k.Value, claimsFields)
		}
		s, err := scalar(path, k, v)
		if err != nil {
			return c, err
		}
		*dst = s
	}
	return c, nil
}

// scalar reads the string value of key k.
func scalar(path string, k, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return "", fmt.Errorf("%s:%d: %s must be a single value, found %s", path, v.Line, k.Value, kindName(v))
	}
	return strings.TrimSpace(v.Value), nil
}

// boolValue reads a YAML boolean.
func boolValue(path string, v *yaml.Node, s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s:%d: validate_subscription is %q; write true or false", path, v.Line, s)
}

// relativeTo resolves a path of the issuers file from the file's folder.
func relativeTo(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// kindName describes a YAML node for an error.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

var errNoIssuers = errors.New("no JWT issuer is configured; set --jwt-issuer with --jwt-jwks-url or --jwt-cert, or --jwt-issuers-file")
