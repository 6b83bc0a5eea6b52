package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/etcdstore"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
)

// apiKeyPrefix starts every key create makes, so that a key is recognised
// as one (by people, and by secret scanners).
const apiKeyPrefix = "mgw_"

// apiKeyCmd holds what the apikey subcommands share.
type apiKeyCmd struct {
	s      streams
	etcd   etcdFlags
	prefix string
}

func newAPIKeyCmd(s streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "apikey",
		Short: "Create, revoke and list the opaque API keys the gateway reads from etcd",
		Long: `API keys live in etcd, under --apikey-prefix, as the SHA-256 of each key with
its application, key type, allowed APIs and expiry; never as the key itself.
Every gateway watching that etcd takes a new or revoked key within milliseconds.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newAPIKeyCreateCmd(s), newAPIKeyRevokeCmd(s), newAPIKeyListCmd(s))
	return c
}

// register adds the shared flags to a subcommand.
func (a *apiKeyCmd) register(c *cobra.Command) {
	a.etcd.register(c)
	c.Flags().StringVar(&a.prefix, "apikey-prefix", settings.Named("apikey-prefix").Default, "etcd prefix of the API keys, as the gateway's --apikey-prefix")
}

type apiKeyCreateCmd struct {
	apiKeyCmd
	app, keyType, tier string
	apis               []string
	expires            time.Duration
}

func newAPIKeyCreateCmd(s streams) *cobra.Command {
	cc := &apiKeyCreateCmd{apiKeyCmd: apiKeyCmd{s: s}}
	c := &cobra.Command{
		Use:   "create --etcdurl=URL --app=NAME",
		Short: "Create an API key; print it once",
		Long: `Create a random API key for an application and store its SHA-256 record in
etcd. The key is printed once, alone on standard output; micro-gw keeps only
its hash and cannot show it again.`,
		Example: `  micro-gw apikey create --etcdurl=http://127.0.0.1:2379 --app=shop
  micro-gw apikey create --etcdurl=http://127.0.0.1:2379 --app=shop --key-type=SANDBOX --apis=Petstore --expires=720h`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return cc.run(c.Context()) },
	}
	cc.register(c)
	f := c.Flags()
	f.StringVar(&cc.app, "app", "", "the application the key belongs to (required)")
	f.StringVar(&cc.keyType, "key-type", auth.Production, "PRODUCTION or SANDBOX: which endpoints the key reaches")
	f.StringSliceVar(&cc.apis, "apis", nil, "API titles the key may call, comma-separated (default: every API)")
	f.DurationVar(&cc.expires, "expires", 0, "lifetime of the key, e.g. 720h (default: it never expires)")
	f.StringVar(&cc.tier, "tier", "", "the application's throttling tier")
	return c
}

// record checks the flags and builds the key's record.
func (cc *apiKeyCreateCmd) record(now time.Time) (etcdstore.Record, error) {
	if strings.TrimSpace(cc.app) == "" {
		return etcdstore.Record{}, usageError{errors.New("--app is required: name the application the key belongs to")}
	}
	if cc.expires < 0 {
		return etcdstore.Record{}, usageError{fmt.Errorf("--expires=%v is negative: give a lifetime such as 720h, or leave it out for a key that never expires", cc.expires)}
	}
	r := etcdstore.Record{Application: cc.app, KeyType: strings.ToUpper(cc.keyType), Tier: cc.tier}
	for _, a := range cc.apis {
		if a = strings.TrimSpace(a); a != "" {
			r.APIs = append(r.APIs, a)
		}
	}
	if cc.expires > 0 {
		r.Expires = now.Add(cc.expires).UTC().Format(time.RFC3339)
	}
	if _, err := r.Check(); err != nil {
		return r, usageError{fmt.Errorf("--key-type, --apis or --app: %w", err)}
	}
	return r, nil
}

func (cc *apiKeyCreateCmd) run(ctx context.Context) error {
	rec, err := cc.record(time.Now())
	if err != nil {
		return err
	}
	value, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := apiKeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	hash := etcdstore.Hash([]byte(key))
	cli, err := cc.etcd.connect(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	cctx, cancel := context.WithTimeout(ctx, etcdCallTimeout)
	defer cancel()
	name := cc.prefix + hash
	resp, err := cli.Txn(cctx).If(clientv3.Compare(clientv3.CreateRevision(name), "=", 0)).Then(clientv3.OpPut(name, string(value))).Commit()
	if err != nil {
		return etcdErr("store the API key", err)
	}
	if !resp.Succeeded {
		return errors.New("store the API key: a key with the same SHA-256 exists (astronomically unlikely); run the command again")
	}
	fmt.Fprintln(cc.s.out, key)
	fmt.Fprintf(cc.s.err, "API key %s created for %s (%s, %s, expires %s).\n", etcdstore.KeyID(hash), rec.Application, rec.KeyType, apisText(rec.APIs), expiresText(rec.Expires))
	fmt.Fprintln(cc.s.err, "This is the only time the key is shown: etcd holds only its SHA-256. Store it now.")
	return nil
}

type apiKeyRevokeCmd struct{ apiKeyCmd }

func newAPIKeyRevokeCmd(s streams) *cobra.Command {
	rc := &apiKeyRevokeCmd{apiKeyCmd{s: s}}
	c := &cobra.Command{
		Use:   "revoke --etcdurl=URL <key|id>",
		Short: "Revoke an API key, given the key or its id",
		Long: `Delete an API key from etcd: every gateway refuses it within milliseconds.
Give the key itself, or its id as micro-gw apikey list shows it (the first hex
digits of its SHA-256; at least 6, as many as it takes to name one key).`,
		Example: `  micro-gw apikey revoke --etcdurl=http://127.0.0.1:2379 1a2b3c4d5e6f`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("apikey revoke takes one key or id, got %d arguments; see: %s --help", len(args), c.CommandPath())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return rc.run(c.Context(), args[0]) },
	}
	rc.register(c)
	return c
}

// isHashPrefix reports whether arg reads as an id or a hash: lower-case
// hex, at most a SHA-256 long. Keys from create start with mgw_.
func isHashPrefix(arg string) bool {
	if arg == "" || len(arg) > 64 || strings.ToLower(arg) != arg {
		return false
	}
	_, err := hex.DecodeString(arg + arg) // any length: doubled is even
	return err == nil
}

func (rc *apiKeyRevokeCmd) run(ctx context.Context, arg string) error {
	cli, err := rc.etcd.connect(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	cctx, cancel := context.WithTimeout(ctx, etcdCallTimeout)
	defer cancel()
	name := rc.prefix + etcdstore.Hash([]byte(arg))
	if isHashPrefix(arg) {
		if len(arg) < 6 {
			return usageError{fmt.Errorf("id %q is too short: give at least 6 hex digits of the id micro-gw apikey list shows", arg)}
		}
		resp, err := cli.Get(cctx, rc.prefix+arg, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(2))
		if err != nil {
			return etcdErr("find the API key", err)
		}
		switch len(resp.Kvs) {
		case 0:
			return fmt.Errorf("no API key has the id %s under %s; see micro-gw apikey list", arg, rc.prefix)
		case 1:
			name = string(resp.Kvs[0].Key)
		default:
			return fmt.Errorf("several API keys have an id starting %s; give more digits (micro-gw apikey list)", arg)
		}
	}
	resp, err := cli.Delete(cctx, name)
	if err != nil {
		return etcdErr("revoke the API key", err)
	}
	id := etcdstore.KeyID(strings.TrimPrefix(name, rc.prefix))
	if resp.Deleted == 0 {
		return fmt.Errorf("no such API key (id %s) under %s: it was revoked already, or the key is mistyped; see micro-gw apikey list", id, rc.prefix)
	}
	fmt.Fprintf(rc.s.out, "API key %s revoked at etcd revision %d.\n", id, resp.Header.Revision)
	return nil
}

type apiKeyListCmd struct{ apiKeyCmd }

func newAPIKeyListCmd(s streams) *cobra.Command {
	lc := &apiKeyListCmd{apiKeyCmd{s: s}}
	c := &cobra.Command{
		Use:   "list --etcdurl=URL",
		Short: "List the API keys: id, application, key type, APIs, expiry; never a key",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return lc.run(c.Context()) },
	}
	lc.register(c)
	return c
}

func (lc *apiKeyListCmd) run(ctx context.Context) error {
	cli, err := lc.etcd.connect(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	cctx, cancel := context.WithTimeout(ctx, etcdCallTimeout)
	defer cancel()
	resp, err := cli.Get(cctx, lc.prefix, clientv3.WithPrefix())
	if err != nil {
		return etcdErr("list the API keys", err)
	}
	w := tabwriter.NewWriter(lc.s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tAPPLICATION\tKEY TYPE\tAPIS\tEXPIRES")
	for _, kv := range resp.Kvs {
		id := etcdstore.KeyID(strings.TrimPrefix(string(kv.Key), lc.prefix))
		rec, _, err := etcdstore.ParseRecord(kv.Value)
		if err != nil {
			fmt.Fprintf(w, "%s\t(unusable record, ignored by the gateway: %v)\t\t\t\n", id, err)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", id, rec.Application, rec.KeyType, apisText(rec.APIs), expiresText(rec.Expires))
	}
	return w.Flush()
}

func apisText(apis []string) string {
	if len(apis) == 0 {
		return "all APIs"
	}
	return strings.Join(apis, ",")
}

func expiresText(exp string) string {
	if exp == "" {
		return "never"
	}
	return exp
}
