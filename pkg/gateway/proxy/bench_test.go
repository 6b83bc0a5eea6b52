package proxy

import (
	"bytes"
	"net"
	"runtime"
	"testing"

	"github.com/micro-gw/micro-gw/internal/jwktest"
	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/valyala/fasthttp"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/jwt"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// BenchmarkProxy sends GET requests through the proxy to a fasthttp backend
// answering 1 KB of JSON, all on loopback; -benchmem counts the
// allocations of client, proxy and backend together. Metrics are off.
func BenchmarkProxy(b *testing.B) { benchProxy(b, Options{}) }

// BenchmarkProxyMetrics is BenchmarkProxy with metrics on: its ratio to
// BenchmarkProxy is the cost of metrics, and its allocations must be the
// same.
func BenchmarkProxyMetrics(b *testing.B) { benchProxy(b, Options{Metrics: metrics.New()}) }

func benchProxy(b *testing.B, opts Options) {
	body := bytes.Repeat([]byte(`{"id":1,"name":"doggie"},`), 40)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	be := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
	}}
	go be.Serve(ln)
	defer be.Shutdown()
	gw := startGateway(b, petstore("http://"+ln.Addr().String(), 0), opts)
	benchGET(b, gw.url, "/petstore/v1/pet/42?status=available", len(body))
}

// benchGET sends GET base+path through the gateway at base from parallel
// clients, b.N requests, each of which must answer 200 with a body of
// bodyLen bytes.
func benchGET(b *testing.B, base, path string, bodyLen int) {
	benchGETWith(b, base, path, bodyLen)
}

// benchGETWith is benchGET with request header pairs.
func benchGETWith(b *testing.B, base, path string, bodyLen int, header ...string) {
	client := &fasthttp.HostClient{Addr: base[len("http://"):]}
	url := base + path
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		for pb.Next() {
			req.SetRequestURI(url)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != bodyLen {
				b.Fatalf("%v %d %d", err, resp.StatusCode(), len(resp.Body()))
			}
		}
	})
}

// BenchmarkProxyJWT sends the same GET through the same route served open
// and guarded by a bearer JWT (RS256, verified once, then answered from
// the verifier's cache), and logs the throughput ratio jwt/open (the
// issue's goal: >= 0.9) and the allocations the guard adds per request
// (goal: none).
func BenchmarkProxyJWT(b *testing.B) {
	body := bytes.Repeat([]byte(`{"id":1,"name":"doggie"},`), 40)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	be := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
	}}
	go be.Serve(ln)
	defer be.Shutdown()
	backend := "http://" + ln.Addr().String()
	clock := newTestClock()
	js := jwktest.NewServer(b, allKeys(b)...)
	v := &auth.Verifiers{Tokens: verifier(b, js.URL, clock, jwt.Options{})}
	open := startGateway(b, shop(backend, "", map[string]*spec.Security{"/pet/{id}": {Disabled: true}}), Options{})
	guarded := startGateway(b, shop(backend, "", map[string]*spec.Security{"/pet/{id}": anyOf(all(oauth2()))}), Options{Auth: v})
	tok := "Bearer " + rsaToken(b)

	type result struct{ ns, allocs float64 }
	run := func(name, base string, header ...string) (r result) {
		b.Run(name, func(b *testing.B) {
			benchGETWith(b, base, "/shop/pet/42?status=available", len(body), header...)
			r.ns = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		r.allocs = allocsPerRequest(b, base, header...)
		return r
	}
	o := run("open", open.url)
	j := run("jwt", guarded.url, "Authorization", tok)
	b.Logf("throughput jwt/open = %.3f (open %.0f ns/op, jwt %.0f ns/op); allocations per request in the whole process: open %.2f, jwt %.2f",
		o.ns/j.ns, o.ns, j.ns, o.allocs, j.allocs)
}

// allocsPerRequest measures the process's allocations per sequential
// request (client, proxy and backend together): the guard's own share is
// the difference between two routes.
func allocsPerRequest(b *testing.B, base string, header ...string) float64 {
	client := &fasthttp.HostClient{Addr: base[len("http://"):]}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	do := func() {
		req.SetRequestURI(base + "/shop/pet/42?status=available")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			b.Fatalf("%v %d", err, resp.StatusCode())
		}
	}
	for range 100 { // warm the pools and the token cache
		do()
	}
	const n = 2000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		do()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / n
}
