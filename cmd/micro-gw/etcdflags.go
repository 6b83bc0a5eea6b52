package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
)

// etcdCallTimeout bounds every call a command makes to etcd.
const etcdCallTimeout = 5 * time.Second

// etcdFlags are the etcd connection flags of the commands that write what
// the gateway watches (apikey, revoke): the gateway's own names and rules,
// declared once here.
type etcdFlags struct {
	urls, username, passwordFile, caCert, cert, key string
}

// register adds the flags to c, --etcdurl being required.
func (f *etcdFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&f.urls, "etcdurl", "", "etcd member URL(s), http:// or https://, comma-separated (required)")
	fs.StringVar(&f.username, "etcdusername", "", "etcd user name")
	fs.StringVar(&f.passwordFile, "etcdpassword-file", "", "file holding the etcd password (or set the etcdpassword environment variable)")
	fs.StringVar(&f.caCert, "etcdcacert", "", "PEM file of the CA that signed etcd's certificate")
	fs.StringVar(&f.cert, "etcdcert", "", "PEM client certificate file for etcd")
	fs.StringVar(&f.key, "etcdkey", "", "PEM private key file for --etcdcert")
}

// options turns the flags into discovery.Options, reading the password
// from --etcdpassword-file or the etcdpassword environment variable.
func (f *etcdFlags) options() (discovery.Options, error) {
	o := discovery.Options{Username: f.username, CACert: f.caCert, Cert: f.cert, Key: f.key}
	for _, u := range strings.Split(f.urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.Endpoints = append(o.Endpoints, u)
		}
	}
	if len(o.Endpoints) == 0 {
		return o, usageError{errors.New("--etcdurl is required: give the etcd the gateway watches, e.g. --etcdurl=http://127.0.0.1:2379")}
	}
	o.Password = os.Getenv("etcdpassword")
	if f.passwordFile != "" {
		if o.Password != "" {
			return o, usageError{errors.New("--etcdpassword-file and the etcdpassword environment variable are both set: give one")}
		}
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return o, fmt.Errorf("--etcdpassword-file: %w", err)
		}
		o.Password = strings.TrimRight(string(b), "\r\n")
	}
	return o, nil
}

// connect checks the flags and returns a client of the etcd they name.
// The caller closes it.
func (f *etcdFlags) connect(ctx context.Context) (*clientv3.Client, error) {
	o, err := f.options()
	if err != nil {
		return nil, err
	}
	cfg, err := discovery.ClientConfig(o)
	if err != nil {
		return nil, err
	}
	cfg.Context = ctx
	cfg.DialTimeout = etcdCallTimeout
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to etcd at %s: %w; check --etcdurl and the credentials", strings.Join(o.Endpoints, ","), err)
	}
	return cli, nil
}

// etcdErr explains a failed call to etcd.
func etcdErr(what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: etcd did not answer within %v; check --etcdurl and that etcd runs", what, etcdCallTimeout)
	}
	return fmt.Errorf("%s: %w", what, err)
}
