package proxy

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/internal/otlptest"
	"github.com/micro-gw/micro-gw/pkg/gateway/tracing"
	"github.com/valyala/fasthttp"
)

// BenchmarkProxyTraced is BenchmarkProxy with tracing on, exporting to an
// OTLP receiver on loopback, at sampling ratios 0 (spans made, none
// recorded; traceparent still sent) and 1 (every request recorded and
// exported). BenchmarkProxy itself is the tracing-off figure.
func BenchmarkProxyTraced(b *testing.B) {
	for _, ratio := range []float64{0, 1} {
		b.Run("ratio="+strconv.FormatFloat(ratio, 'g', -1, 64), func(b *testing.B) {
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
			rcv := otlptest.Start(b)
			tr, err := tracing.New(tracing.Config{Endpoint: rcv.URL, SampleRatio: ratio, ServiceName: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				tr.Shutdown(ctx)
			}()
			gw := startGateway(b, petstore("http://"+ln.Addr().String(), 0), Options{Tracer: tr})
			benchGET(b, gw.url, "/petstore/v1/pet/42?status=available", len(body))
		})
	}
}
