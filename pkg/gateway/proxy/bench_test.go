package proxy

import (
	"bytes"
	"net"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/valyala/fasthttp"
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
	client := &fasthttp.HostClient{Addr: base[len("http://"):]}
	url := base + path
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		for pb.Next() {
			req.SetRequestURI(url)
			if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != bodyLen {
				b.Fatalf("%v %d %d", err, resp.StatusCode(), len(resp.Body()))
			}
		}
	})
}
