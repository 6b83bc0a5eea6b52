package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
)

// defaultRevokeTTL is how long a bare jti stays revoked: the longest token
// lifetime the gateway accepts. The gateway sets no upper bound on a
// token's lifetime, so this is the usual longest access-token lifetime;
// give --ttl when your issuer's tokens live longer.
const defaultRevokeTTL = 24 * time.Hour

type revokeCmd struct {
	s      streams
	etcd   etcdFlags
	prefix string
	ttl    time.Duration
	now    func() time.Time
}

func newRevokeCmd(s streams) *cobra.Command {
	rc := &revokeCmd{s: s, now: time.Now}
	c := &cobra.Command{
		Use:   "revoke --etcdurl=URL <token|jti>",
		Short: "Revoke a JWT by its jti, in etcd, until it expires",
		Long: `Store a token's jti under --revoked-prefix in etcd: every gateway watching it
refuses the token (401, 900901) within milliseconds. The entry has an etcd
lease, so etcd forgets it once it no longer matters.

Given a token (three dot-separated parts), its jti and exp are read from it,
without checking its signature, and the lease ends when the token expires
(plus the largest --jwt-clock-skew a gateway accepts, 10m, since a gateway
may still accept it that long); a token that expired longer ago needs none. Given a bare jti, the
lease lasts --ttl.`,
		Example: `  micro-gw revoke --etcdurl=http://127.0.0.1:2379 eyJhbGciOi...
  micro-gw revoke --etcdurl=http://127.0.0.1:2379 --ttl=1h 5c0f6a1e-jti`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("revoke takes one token or jti, got %d arguments; see: %s --help", len(args), c.CommandPath())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return rc.run(c, args[0]) },
	}
	rc.etcd.register(c)
	c.Flags().StringVar(&rc.prefix, "revoked-prefix", settings.Named("revoked-prefix").Default, "etcd prefix of revoked token ids, as the gateway's --revoked-prefix")
	c.Flags().DurationVar(&rc.ttl, "ttl", defaultRevokeTTL,
		"how long a bare jti stays revoked: the longest token lifetime the gateway accepts (24h unless your issuer's tokens live longer)")
	return c
}

// claims are the parts of a token's payload revoke needs.
type claims struct {
	JTI string   `json:"jti"`
	Exp *float64 `json:"exp"`
}

// peek reads a JWT's payload without verifying anything: revoking a token
// only needs its jti and exp, and a forged token's revocation harms no one.
func peek(token string) (claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("not a JWT: it does not have three dot-separated parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, fmt.Errorf("the token's payload (its second part) is not base64url: %v", err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return claims{}, fmt.Errorf("the token's payload is not a JSON object of claims with a string jti and a numeric exp: %v", err)
	}
	if c.JTI == "" {
		return claims{}, errors.New("the token has no jti claim: the gateway revokes tokens by jti only, so this token cannot be revoked; rotate the issuer's key instead")
	}
	if c.Exp != nil && (math.IsNaN(*c.Exp) || math.IsInf(*c.Exp, 0)) {
		return claims{}, errors.New("the token's exp is not a number of seconds")
	}
	return c, nil
}

// maxExp bounds the exp read from a token (year 5138), so that converting
// it cannot overflow; etcd refuses so long a lease anyway, with its reason.
const maxExp = 1e11

// isToken tells a JWT from a bare jti.
func isToken(arg string) bool { return strings.Count(arg, ".") == 2 }

func (rc *revokeCmd) run(c *cobra.Command, arg string) error {
	jti, until, err := rc.target(arg, c.Flags().Changed("ttl"))
	if err != nil || jti == "" {
		return err
	}
	ttl := until.Sub(rc.now())
	cli, err := rc.etcd.connect(c.Context())
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(c.Context(), etcdCallTimeout)
	defer cancel()
	lease, err := cli.Grant(ctx, int64(math.Ceil(ttl.Seconds())))
	if err != nil {
		return etcdErr("create the revocation's lease", err)
	}
	resp, err := cli.Put(ctx, rc.prefix+jti, until.UTC().Format(time.RFC3339), clientv3.WithLease(lease.ID))
	if err != nil {
		return etcdErr("store the revocation", err)
	}
	fmt.Fprintf(rc.s.out, "Token %s revoked until %s (etcd revision %d, lease %x).\n", jti, until.UTC().Format(time.RFC3339), resp.Header.Revision, lease.ID)
	return nil
}

// target returns the jti to revoke and until when; jti "" means there is
// nothing to do (an expired token, said on the output).
func (rc *revokeCmd) target(arg string, ttlSet bool) (jti string, until time.Time, err error) {
	now := rc.now()
	if rc.ttl <= 0 {
		return "", now, usageError{fmt.Errorf("--ttl=%v must be positive: give how long the jti stays revoked, e.g. 24h", rc.ttl)}
	}
	if !isToken(arg) {
		if strings.TrimSpace(arg) == "" || strings.ContainsAny(arg, " \t\r\n") {
			return "", now, usageError{fmt.Errorf("%q is neither a JWT nor a jti: give the token, or its jti claim", arg)}
		}
		return arg, now.Add(rc.ttl), nil
	}
	cl, err := peek(arg)
	if err != nil {
		return "", now, usageError{err}
	}
	if cl.Exp == nil {
		fmt.Fprintf(rc.s.err, "The token %s has no exp: it never expires; revoking it for --ttl (%v).\n", cl.JTI, rc.ttl)
		return cl.JTI, now.Add(rc.ttl), nil
	}
	if ttlSet {
		return "", now, usageError{errors.New("--ttl is for a bare jti or a token without exp: this token's exp decides how long it stays revoked; leave --ttl out")}
	}
	// Every gateway refuses the token past exp plus its own skew, at most
	// auth.MaxClockSkew: the revocation lasts that long.
	exp := time.Unix(int64(min(*cl.Exp, maxExp)), 0)
	if until = exp.Add(auth.MaxClockSkew); !until.After(now) {
		fmt.Fprintf(rc.s.out, "Token %s expired at %s: no gateway accepts it any more; nothing to revoke.\n", cl.JTI, exp.UTC().Format(time.RFC3339))
		return "", until, nil
	}
	return cl.JTI, until, nil
}
