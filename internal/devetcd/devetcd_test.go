package devetcd

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func get(t *testing.T, url, key string) string {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

func put(t *testing.T, url, key, value string) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, key, value); err != nil {
		t.Fatal(err)
	}
}

// TestRestartKeepsAddressAndData: a member started again from its Config
// serves the same URL with the same data; with a new directory it is empty.
func TestRestartKeepsAddressAndData(t *testing.T) {
	s, err := Start(context.Background(), Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	url := s.ClientURL()
	put(t, url, "k", "v")
	s.Close()
	s.Close()

	s, err = Start(context.Background(), s.Config())
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientURL() != url {
		t.Fatalf("restarted at %s, want %s", s.ClientURL(), url)
	}
	if got := get(t, url, "k"); got != "v" {
		t.Fatalf("after restart k=%q, want v", got)
	}
	cfg := s.Config()
	s.Close()
	cfg.Dir = t.TempDir()
	s, err = Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := get(t, url, "k"); got != "" {
		t.Fatalf("wiped member has k=%q", got)
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a three-member etcd cluster")
	}
	cl, err := StartCluster(context.Background(), t.TempDir(), 3, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	urls := cl.ClientURLs()
	put(t, urls[0], "k", "v")
	cl.Members[0].Close()
	if got := get(t, urls[2], "k"); got != "v" {
		t.Fatalf("member 2 has k=%q, want v", got)
	}
}

func TestStartNeedsDir(t *testing.T) {
	if _, err := Start(context.Background(), Config{}); err == nil {
		t.Fatal("Start without Dir succeeded")
	}
}
