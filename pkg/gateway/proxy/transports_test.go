package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// testCertificate is a self-signed certificate for 127.0.0.1.
func testCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// startBothListeners serves g on a plain and a TLS loopback listener, as
// the gateway's HTTP and HTTPS listeners do, and returns their base URLs.
func startBothListeners(t *testing.T, g *spec.Gateway) (httpURL, httpsURL string) {
	t.Helper()
	p, err := New(servedOpen(g), staticBind, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := p.NewServer()
	cfg := &tls.Config{Certificates: []tls.Certificate{testCertificate(t)}, MinVersion: tls.VersionTLS12}
	var urls [2]string
	done := make(chan error, 2)
	for i, secure := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		urls[i] = "http://" + ln.Addr().String()
		served := Listener(ln)
		if secure {
			urls[i] = "https://" + ln.Addr().String()
			served = tls.NewListener(served, cfg)
		}
		go func() { done <- srv.Serve(served) }()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.ShutdownWithContext(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
		<-done
		p.Close()
	})
	return urls[0], urls[1]
}

// TestTransportsLimitAPIsToTheirListeners protects x-wso2-transports: an
// API limited to http or https is served on that listener only and answers
// 404, with micro-gw's fault body, on the other, preflights included; an
// API without the extension is served on both.
func TestTransportsLimitAPIsToTheirListeners(t *testing.T) {
	be := echo(t)
	eps := &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: be.URL}}}
	cors := &spec.CORS{Enabled: true, AllowOrigins: []string{"https://app.example.com"}}
	api := func(base string, transports ...string) spec.API {
		return spec.API{Title: base, BasePath: base, Production: eps, CORS: cors, Transports: transports,
			Resources: []spec.Resource{{Path: "/x", Method: "GET"}}}
	}
	g := &spec.Gateway{APIs: []spec.API{
		api("/plain", spec.TransportHTTP),
		api("/secure", spec.TransportHTTPS),
		api("/both"),
	}}
	httpURL, httpsURL := startBothListeners(t, g)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's own self-signed certificate
	}}

	for _, c := range []struct {
		base    string
		viaTLS  bool
		method  string
		want    int
		comment string
	}{
		{"/plain", false, "GET", 200, "http-only API on the HTTP listener"},
		{"/plain", true, "GET", 404, "http-only API on the HTTPS listener"},
		{"/plain", true, "OPTIONS", 404, "preflight of an http-only API on the HTTPS listener"},
		{"/secure", true, "GET", 200, "https-only API on the HTTPS listener"},
		{"/secure", false, "GET", 404, "https-only API on the HTTP listener"},
		{"/secure", false, "OPTIONS", 404, "preflight of an https-only API on the HTTP listener"},
		{"/secure", true, "OPTIONS", 200, "preflight of an https-only API on the HTTPS listener"},
		{"/both", false, "GET", 200, "API without x-wso2-transports on HTTP"},
		{"/both", true, "GET", 200, "API without x-wso2-transports on HTTPS"},
	} {
		base := httpURL
		if c.viaTLS {
			base = httpsURL
		}
		req := newReq(t, c.method, base+c.base+"/x", nil)
		if c.method == "OPTIONS" {
			req.Header.Set("Origin", "https://app.example.com")
			req.Header.Set("Access-Control-Request-Method", "GET")
		}
		resp, body := get(t, client, req)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %s %s = %d %q, want %d", c.comment, c.method, req.URL, resp.StatusCode, body, c.want)
			continue
		}
		if c.want == 404 && !strings.Contains(body, `"code":404`) {
			t.Errorf("%s: body %q is not micro-gw's 404 fault", c.comment, body)
		}
	}
}

func TestTransportsOf(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want transports
	}{
		{nil, anyTransport},
		{[]string{"http", "https"}, anyTransport},
		{[]string{"http"}, httpOnly},
		{[]string{"https"}, httpsOnly},
	} {
		if got := transportsOf(c.in); got != c.want {
			t.Errorf("transportsOf(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}
