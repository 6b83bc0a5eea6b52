package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// TestEtcdEntryInLoadBalancedList changes the etcd key behind one URL of a
// load-balanced list while two clients send requests, and checks that the
// list follows it with no failed request.
func TestEtcdEntryInLoadBalancedList(t *testing.T) {
	a, b, c := startBackend(t, "a", nil), startBackend(t, "b", nil), startBackend(t, "c", nil)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	etcd, err := devetcd.Start(ctx, devetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	def, err := endpoint.Parse(a.URL())
	if err != nil {
		t.Fatal(err)
	}
	res, err := discovery.New(discovery.Options{Endpoints: []string{etcd.ClientURL()}, Logger: slog.New(slog.DiscardHandler)},
		map[string]*endpoint.Target{"svc": def})
	if err != nil {
		t.Fatal(err)
	}
	res.Start(ctx)
	defer res.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.ClientURL()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	g := &spec.Gateway{APIs: []spec.API{{
		Title: "lb", BasePath: "/api",
		Production: &spec.Endpoints{Type: spec.TypeLoadBalance, URLs: []spec.EndpointURL{{URL: a.URL(), EtcdKey: "svc"}, {URL: b.URL()}}},
		Resources:  []spec.Resource{{Path: "/item", Method: "GET"}},
	}}}
	p, err := New(servedOpen(g), func(u spec.EndpointURL) (*endpoint.Binding, error) {
		if u.EtcdKey != "" {
			return res.Binding(u.EtcdKey), nil
		}
		t, err := endpoint.Parse(u.URL)
		if err != nil {
			return nil, err
		}
		return endpoint.NewBinding(t), nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.NewServer()
	go srv.Serve(ln)
	defer p.Close()
	defer srv.Shutdown()
	url := "http://" + ln.Addr().String() + "/api/item"

	// Two clients, each sending sequential requests, at most 20,000 in all.
	var mu sync.Mutex
	seen := map[string]int{}
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switched := false
			for range 10000 {
				select {
				case <-stop:
					return
				default:
				}
				status, body, err := fetch(url)
				mu.Lock()
				seen[body]++
				if err != nil || status != 200 {
					failures = append(failures, fmt.Sprint(status, body, err))
				}
				if body == "c 0" {
					switched = true
				} else if switched && body == "a 0" {
					failures = append(failures, "a request went to the old URL after one went to the new")
				}
				mu.Unlock()
			}
		}()
	}
	count := func(name string) int {
		mu.Lock()
		defer mu.Unlock()
		return seen[name]
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: not within %v; responses %v", what, wait, seen)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("traffic on the default and the plain URL", func() bool { return count("a 0") >= 20 && count("b 0") >= 20 })
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = cli.Put(pctx, "svc", c.URL())
	pcancel()
	if err != nil {
		t.Fatal(err)
	}
	waitFor("traffic on the URL put in etcd", func() bool { return count("c 0") >= 20 })
	bBefore := count("b 0")
	waitFor("the plain URL still served", func() bool { return count("b 0") >= bBefore+20 })
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d bad answers under traffic, first: %s", len(failures), failures[0])
	}
}

// fetch GETs url; unlike get it may run outside the test goroutine.
func fetch(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
