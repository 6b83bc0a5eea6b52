package jwt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

const (
	// maxCacheLife bounds how long a verified token is trusted without a
	// re-check (micro-gw 3.x cached for 15 minutes).
	maxCacheLife = 15 * time.Minute
	// maxTokenBytes bounds the tokens looked at; larger ones are refused
	// before hashing or parsing.
	maxTokenBytes = 32 << 10
	// minSecretBytes is the shortest HMAC secret accepted (RFC 7518 3.2:
	// a key at least as long as the HS256 hash).
	minSecretBytes = 32
)

// defaultCache is the cache size a zero CacheSize takes: the setting's
// default.
var defaultCache = settings.Named("jwt-cache-size").DefaultInt()

// Options configure a Verifier. Zero durations take the defaults named.
type Options struct {
	Issuers []Issuer
	// ClockSkew is allowed on exp, nbf and iat (--jwt-clock-skew).
	ClockSkew time.Duration
	// CacheSize bounds the verified tokens kept (default 10000).
	CacheSize int
	// Now is the clock for every time check (default time.Now).
	Now func() time.Time
	// HTTPClient fetches JWKS documents (default: a client with a 5s
	// timeout that follows redirects only to https:// or loopback).
	HTTPClient *http.Client
	// Logger gets the verifier's lines (default slog.Default()).
	Logger *slog.Logger
	// StartTimeout bounds New's wait for the first key sets (default 3s).
	StartTimeout time.Duration
	// RefreshInterval is the period of key set refreshes (default 10m).
	RefreshInterval time.Duration
	// MinRefreshGap spaces refreshes triggered by unknown kids (default 10s).
	MinRefreshGap time.Duration
}

// Verifier verifies JWTs from the configured issuers; safe for concurrent use.
type Verifier struct {
	issuers map[string]*issuer
	now     func() time.Time
	skew    time.Duration
	cache   *cache
	log     *slog.Logger
}

var _ auth.TokenVerifier = (*Verifier)(nil)

// issuer is one configured issuer with its keys loaded.
type issuer struct {
	cfg    Issuer
	parser *jwtlib.Parser
	cert   *key        // from CertFile, or nil
	secret []byte      // from HMACSecretFile, or nil
	jwks   *jwksSource // from JWKSURL, or nil
}

// Algorithms by key source.
var (
	asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	hmacAlgs       = []string{"HS256", "HS384", "HS512"}
)

// New checks the configuration, loads the issuers' keys and starts fetching
// their key sets. It waits for the first fetches at most StartTimeout: an
// issuer whose key set is not there by then is logged, and its tokens get
// fault.AuthUnavailable until a fetch succeeds. Fetching stops when ctx ends.
func New(ctx context.Context, o Options) (*Verifier, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	v := &Verifier{
		issuers: make(map[string]*issuer, len(o.Issuers)),
		now:     o.Now,
		skew:    o.ClockSkew,
		cache:   newCache(o.CacheSize),
		log:     o.Logger,
	}
	for _, cfg := range o.Issuers {
		is, err := newIssuer(cfg, &o)
		if err != nil {
			return nil, err
		}
		if _, dup := v.issuers[cfg.Issuer]; dup {
			return nil, fmt.Errorf("%s is configured twice; keep one entry per issuer", cfg.name())
		}
		v.issuers[cfg.Issuer] = is
	}
	v.start(ctx, o.StartTimeout)
	return v, nil
}

// defaults fills o's zero values and refuses impossible ones.
func (o *Options) defaults() error {
	if len(o.Issuers) == 0 {
		return errNoIssuers
	}
	if o.ClockSkew < 0 {
		return fmt.Errorf("the JWT clock skew is %v; give a duration of 0 or more (--jwt-clock-skew)", o.ClockSkew)
	}
	if o.CacheSize < 0 {
		return fmt.Errorf("the JWT cache size is %d; give a count of 0 (default %d) or more (--jwt-cache-size)", o.CacheSize, defaultCache)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.StartTimeout, 3*time.Second)
	def(&o.RefreshInterval, 10*time.Minute)
	def(&o.MinRefreshGap, 10*time.Second)
	if o.CacheSize == 0 {
		o.CacheSize = defaultCache
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = defaultClient()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// newIssuer checks one issuer's configuration and loads its key material.
func newIssuer(cfg Issuer, o *Options) (*issuer, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("a JWT issuer has no iss; set --jwt-issuer or the issuer field of --jwt-issuers-file")
	}
	if cfg.JWKSURL == "" && cfg.CertFile == "" && cfg.HMACSecretFile == "" {
		return nil, fmt.Errorf("%s has no keys; set --jwt-jwks-url or --jwt-cert (jwks_url, cert or hmac_secret_file in --jwt-issuers-file)", cfg.name())
	}
	cfg.Claims = cfg.Claims.withDefaults()
	is := &issuer{cfg: cfg}
	var algs []string
	if cfg.CertFile != "" {
		pub, err := loadCertFile(cfg.CertFile)
		if err != nil {
			return nil, fmt.Errorf("%s: cert %s: %v", cfg.name(), cfg.CertFile, err)
		}
		is.cert = &key{pub: pub}
	}
	if cfg.HMACSecretFile != "" {
		secret, err := os.ReadFile(cfg.HMACSecretFile)
		if err != nil {
			return nil, fmt.Errorf("%s: reading the HMAC secret file: %v; check hmac_secret_file", cfg.name(), err)
		}
		secret = bytes.TrimRight(secret, "\r\n")
		if len(secret) < minSecretBytes {
			return nil, fmt.Errorf("%s: the HMAC secret file %s holds %d bytes; use a random secret of %d bytes or more", cfg.name(), cfg.HMACSecretFile, len(secret), minSecretBytes)
		}
		is.secret = secret
		algs = append(algs, hmacAlgs...)
	}
	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return nil, fmt.Errorf("%s: %v", cfg.name(), err)
		}
		is.jwks = &jwksSource{
			url: cfg.JWKSURL, shown: endpoint.Redact(cfg.JWKSURL), issuer: cfg.Issuer,
			client: o.HTTPClient, log: o.Logger, now: o.Now,
			interval: o.RefreshInterval, minGap: o.MinRefreshGap,
			first: make(chan struct{}), kick: make(chan struct{}, 1),
		}
	}
	if is.jwks != nil {
		is.jwks.onlySource = is.cert == nil && is.secret == nil
	}
	if is.cert != nil || is.jwks != nil {
		algs = append(algs, asymmetricAlgs...)
	}
	is.parser = jwtlib.NewParser(
		jwtlib.WithValidMethods(algs),
		jwtlib.WithJSONNumber(),
		jwtlib.WithStrictDecoding(),
		jwtlib.WithoutClaimsValidation(), // checked by checkClaims, with an inclusive skew
	)
	return is, nil
}

// start launches the key set fetchers and waits for their first fetch, at
// most timeout in all.
func (v *Verifier) start(ctx context.Context, timeout time.Duration) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var sources []*jwksSource
	for _, is := range v.issuers {
		if is.jwks != nil {
			go is.jwks.run(ctx)
			sources = append(sources, is.jwks)
		}
	}
wait:
	for _, s := range sources {
		select {
		case <-s.first:
		case <-deadline.C:
			break wait
		case <-ctx.Done():
			return
		}
	}
	for _, s := range sources {
		if s.set.Load() == nil {
			v.log.Warn("no signing keys from the issuer's JWKS URL at start; fetching continues in the background, and until it succeeds tokens only it could verify get 401 (900900)",
				"issuer", s.issuer, "jwks_url", s.shown, "start_timeout", timeout)
		}
	}
}

// Verify checks token and returns its principal, or the fault to answer.
// A token verified before and still within its cache life is answered
// from the cache, without allocating.
func (v *Verifier) Verify(token []byte) (*auth.Principal, *fault.Fault) {
	if len(token) == 0 || len(token) > maxTokenBytes {
		return nil, fault.InvalidCredentials
	}
	k := v.cache.key(token)
	now := v.now()
	if p, ok := v.cache.get(k, token, now.UnixNano()); ok {
		return p, nil
	}
	h := sha256.Sum256(token)
	p, f := v.verify(token, &h)
	if f != nil {
		return nil, f
	}
	until := now.Add(maxCacheLife)
	if p.Expires.Before(until) {
		until = p.Expires
	}
	if until.After(now) {
		v.cache.put(k, token, p, until.UnixNano())
	}
	return p, nil
}

// verify is Verify without the cache.
func (v *Verifier) verify(token []byte, h *[32]byte) (*auth.Principal, *fault.Fault) {
	id := hex.EncodeToString(h[:6]) // names the token in logs; never the token
	iss, err := peekIssuer(token)
	if err != nil {
		v.log.Debug("JWT refused", "token_hash", id, "reason", err)
		return nil, fault.InvalidCredentials
	}
	is := v.issuers[iss]
	if is == nil {
		v.log.Debug("JWT refused: unknown issuer", "token_hash", id, "iss", iss)
		return nil, fault.InvalidCredentials
	}
	if s := is.jwks; s != nil && s.onlySource && s.set.Load() == nil {
		if !s.awaitRefresh() || s.set.Load() == nil {
			s.logUnavailable()
			return nil, fault.AuthUnavailable
		}
	}
	claims := jwtlib.MapClaims{}
	if _, err := is.parser.ParseWithClaims(string(token), claims, is.keyFor); err != nil {
		v.log.Debug("JWT refused", "token_hash", id, "iss", iss, "reason", err)
		return nil, fault.InvalidCredentials
	}
	p, f, why := v.principal(is, claims, id)
	if f != nil {
		v.log.Debug("JWT refused", "token_hash", id, "iss", iss, "reason", why)
	}
	return p, f
}

// errNoKey refuses a token no configured key may verify.
var errNoKey = errors.New("no key of the issuer fits the token's alg and kid")

// keyFor picks the key to verify t with: the configured secret for HS*
// (only with the secret file set: WithValidMethods refuses HS* otherwise);
// else the key set's key named by kid, whose type must fit alg; else the
// certificate's key if it fits; else, for a token without kid, the key
// set's only key that fits. An unknown kid triggers one rate-limited
// refresh of the key set, waited for briefly, so that a rotated key is
// accepted as soon as the issuer publishes it.
func (is *issuer) keyFor(t *jwtlib.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515 §4.1.11: a recipient that does not understand the
		// listed extensions must refuse the token; this one understands none.
		return nil, errors.New("the token names critical header extensions (crit), which the gateway does not implement")
	}
	alg := t.Method.Alg()
	if strings.HasPrefix(alg, "HS") {
		if is.secret == nil {
			return nil, errNoKey
		}
		return is.secret, nil
	}
	kid := ""
	if raw, ok := t.Header["kid"]; ok {
		s, ok := raw.(string)
		if !ok {
			return nil, errors.New("the kid header is not a string")
		}
		kid = s
	}
	if is.jwks != nil && kid != "" {
		if k := is.jwks.lookup(kid); k != nil {
			if !k.fits(alg) {
				return nil, fmt.Errorf("key %q does not fit alg %s", kid, alg)
			}
			return k.pub, nil
		}
	}
	if is.cert != nil && is.cert.fits(alg) {
		return is.cert.pub, nil
	}
	if is.jwks == nil {
		return nil, errNoKey
	}
	if kid == "" {
		if set := is.jwks.set.Load(); set != nil {
			if k := set.only(alg); k != nil {
				return k.pub, nil
			}
		}
		return nil, errNoKey
	}
	if is.jwks.awaitRefresh() {
		if k := is.jwks.lookup(kid); k != nil && k.fits(alg) {
			return k.pub, nil
		}
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

// lookup returns the current key set's key named kid, or nil.
func (s *jwksSource) lookup(kid string) *key {
	if set := s.set.Load(); set != nil {
		return set.byKid[kid]
	}
	return nil
}

// peekIssuer reads the unverified iss, to pick the issuer whose keys and
// algorithms verify the token.
func peekIssuer(token []byte) (string, error) {
	var c struct {
		Iss string `json:"iss"`
	}
	if err := decodePayload(token, &c); err != nil {
		return "", err
	}
	return c.Iss, nil
}

// decodePayload decodes the token's claims (unverified) into dst.
func decodePayload(token []byte, dst any) error {
	first := bytes.IndexByte(token, '.')
	if first < 0 {
		return errors.New("the token is not three dot-separated parts")
	}
	rest := token[first+1:]
	second := bytes.IndexByte(rest, '.')
	if second < 0 || bytes.IndexByte(rest[second+1:], '.') >= 0 {
		return errors.New("the token is not three dot-separated parts")
	}
	enc := base64.RawURLEncoding.Strict()
	payload := make([]byte, enc.DecodedLen(second))
	n, err := enc.Decode(payload, rest[:second])
	if err != nil {
		return errors.New("the token's claims are not base64url")
	}
	if err := json.Unmarshal(payload[:n], dst); err != nil {
		return fmt.Errorf("the token's claims are not a JSON object of the expected types: %v", err)
	}
	return nil
}

// Peek reads a token's jti and exp without verifying it, for `micro-gw
// revoke <token>`. exp is zero when the token has none; a token without jti
// is an error, since only a jti can be revoked.
func Peek(token []byte) (jti string, exp time.Time, err error) {
	var c struct {
		JTI *string      `json:"jti"`
		Exp *json.Number `json:"exp"`
	}
	if err := decodePayload(bytes.TrimSpace(token), &c); err != nil {
		return "", time.Time{}, fmt.Errorf("reading the token: %v; give a JWT (three base64url parts separated by dots) or its jti", err)
	}
	if c.JTI == nil || *c.JTI == "" {
		return "", time.Time{}, errors.New("the token has no jti, so it cannot be revoked by id; revoke it at its issuer or rotate the issuer's key")
	}
	if c.Exp != nil {
		f, err := c.Exp.Float64()
		if err != nil {
			return "", time.Time{}, fmt.Errorf("the token's exp %q is not a number", c.Exp.String())
		}
		exp = time.Unix(int64(f), 0)
	}
	return *c.JTI, exp, nil
}
