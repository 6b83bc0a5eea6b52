package gateway

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// TestEtcdKeyWithTwoDefaultsStartsOnTheFirstAndWarnsOnce protects the one
// rule for an etcd key declared with several defaults, spec's: the gateway
// starts on the first in declaration order, and names each other default
// once, however often it is repeated (the build warns the same way).
func TestEtcdKeyWithTwoDefaultsStartsOnTheFirstAndWarnsOnce(t *testing.T) {
	etcd := func(url string) *spec.Endpoints {
		return &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{EtcdKey: "pets", URL: url}}}
	}
	g := &spec.Gateway{APIs: []spec.API{
		{Title: "a", File: "a.yaml", Resources: []spec.Resource{{Path: "/x", Method: "GET", Production: etcd("http://two.example.com")}},
			Production: etcd("http://one.example.com")},
		{Title: "b", File: "b.yaml", Production: etcd("http://two.example.com"), Sandbox: etcd("http://one.example.com")},
	}}
	var logs bytes.Buffer
	defaults, err := etcdDefaults(g, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(defaults) != 1 || defaults["pets"].Raw != "http://one.example.com" {
		t.Errorf("defaults = %v, want pets at http://one.example.com", defaults)
	}
	if n := strings.Count(logs.String(), "etcd key has two default URLs"); n != 1 ||
		!strings.Contains(logs.String(), "used=http://one.example.com ignored=http://two.example.com api=a") {
		t.Errorf("want one warning naming both URLs and the first API that uses the other, got %d:\n%s", n, logs.String())
	}
}
