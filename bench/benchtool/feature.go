package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/micro-gw/micro-gw/internal/devissuer"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// issuer makes a throwaway JWT issuer for the feature-cost section: its
// public key goes to DIR/dev-issuer.pem (the gateway's --jwt-cert), and one
// PRODUCTION token, valid for -for, is printed. The key lives only in this
// process, so no other token can ever be minted for that gateway.
func issuer(args []string) error {
	fs := flag.NewFlagSet("issuer", flag.ContinueOnError)
	life := fs.Duration("for", 3*time.Hour, "the token's lifetime (longer than the whole run)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: issuer [-for 3h] DIR")
	}
	is, err := devissuer.New(fs.Arg(0))
	if err != nil {
		return err
	}
	tok, err := is.Mint(devissuer.Token{App: "bench", Lifetime: *life})
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// flip moves an etcd key back and forth between two URLs every -every until
// -for has passed, while a load generator runs against the gateway that
// follows the key; it prints how many puts it made.
func flip(args []string) error {
	fs := flag.NewFlagSet("flip", flag.ContinueOnError)
	etcdURL := fs.String("etcd", "", "etcd client URL")
	key := fs.String("key", "", "etcd key of the endpoint")
	a := fs.String("a", "", "first URL")
	b := fs.String("b", "", "second URL")
	every := fs.Duration("every", 100*time.Millisecond, "time between puts")
	total := fs.Duration("for", 5*time.Second, "how long to keep flipping")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *etcdURL == "" || *key == "" || *a == "" || *b == "" {
		return errors.New("usage: flip -etcd URL -key K -a URL -b URL [-every 100ms] [-for 5s]")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*etcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	urls := [2]string{*a, *b}
	tick := time.NewTicker(*every)
	defer tick.Stop()
	end := time.Now().Add(*total)
	n := 0
	for ; time.Now().Before(end); n++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cli.Put(ctx, *key, urls[(n+1)%2])
		cancel()
		if err != nil {
			return err
		}
		<-tick.C
	}
	fmt.Printf("puts=%d\n", n)
	return nil
}
