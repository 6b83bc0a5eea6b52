package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial atomic.Int64

func newSerial() *big.Int { return big.NewInt(serial.Add(1)) }

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// client issues a client certificate with the given extended key usage.
func (ca *testCA) client(t *testing.T, name string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// writePEM writes the CAs' certificates as one bundle.
func writePEM(t *testing.T, cas ...*testCA) string {
	t.Helper()
	var b []byte
	for _, ca := range cas {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	}
	path := filepath.Join(t.TempDir(), "client-ca.pem")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// handshake is what the server side of one connection saw.
type handshake struct {
	err      error
	verified bool // auth.VerifiedClientCert of the connection state
	onConn   bool // auth.VerifiedClientConn of the connection
}

// connect serves one TLS connection with the gateway's HTTPS configuration
// for clientCA on 127.0.0.1:0, connects with cert (nil for none) as Go's
// client does (it sends a certificate only if its issuer is among the CAs
// the server names) or, with force, always presenting it, and
// returns what the server saw and the client's error (handshake or first
// read: in TLS 1.3 a client learns of its refused certificate on a read).
func connect(t *testing.T, clientCA string, cert *tls.Certificate, force bool) (handshake, error) {
	t.Helper()
	cfg, err := serverTLS(Config{ClientCA: clientCA}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan handshake, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			seen <- handshake{err: err}
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			seen <- handshake{err: err}
			return
		}
		cs := tc.ConnectionState()
		seen <- handshake{verified: auth.VerifiedClientCert(&cs), onConn: auth.VerifiedClientConn(tc)}
		tc.Write([]byte("x"))
	}()
	roots := x509.NewCertPool()
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(leaf)
	ccfg := &tls.Config{RootCAs: roots, ServerName: "localhost"}
	if cert != nil && force {
		// Present the certificate whatever CAs the server names, as
		// OpenSSL-based clients (curl) do.
		ccfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	} else if cert != nil {
		ccfg.Certificates = []tls.Certificate{*cert}
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	c, cerr := tls.DialWithDialer(&d, "tcp", ln.Addr().String(), ccfg)
	if cerr == nil {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, cerr = io.ReadFull(c, make([]byte, 1))
		c.Close()
	}
	return <-seen, cerr
}

// TestMutualTLSVerifiesClientCertificates protects --client-ca: a client
// certificate from a trusted CA is verified; no certificate connects
// unverified (the guard refuses it on mandatory APIs); a certificate from
// another CA, or one not made for client authentication, fails the
// handshake when presented (tls.VerifyClientCertIfGiven). Go's client does
// not present a certificate whose CA the server does not name, so it
// connects unverified instead.
func TestMutualTLSVerifiesClientCertificates(t *testing.T) {
	trusted, other := newCA(t, "trusted CA"), newCA(t, "other CA")
	bundle := writePEM(t, newCA(t, "unrelated CA"), trusted)
	good := trusted.client(t, "good client", x509.ExtKeyUsageClientAuth)
	wrongCA := other.client(t, "client of another CA", x509.ExtKeyUsageClientAuth)
	serverOnly := trusted.client(t, "server certificate", x509.ExtKeyUsageServerAuth)

	t.Run("good certificate", func(t *testing.T) {
		for _, force := range []bool{false, true} {
			hs, cerr := connect(t, bundle, &good, force)
			if hs.err != nil || cerr != nil || !hs.verified || !hs.onConn {
				t.Fatalf("force %v: server %+v, client %v; want a verified connection", force, hs, cerr)
			}
		}
	})
	t.Run("no certificate", func(t *testing.T) {
		hs, cerr := connect(t, bundle, nil, false)
		if hs.err != nil || cerr != nil || hs.verified || hs.onConn {
			t.Fatalf("server %+v, client %v; want a connection without a verified certificate", hs, cerr)
		}
	})
	t.Run("certificate of another CA, Go client", func(t *testing.T) {
		// Go's client sees that the server does not name its CA and sends
		// no certificate: the connection is unverified.
		hs, cerr := connect(t, bundle, &wrongCA, false)
		if hs.err != nil || cerr != nil || hs.verified {
			t.Fatalf("server %+v, client %v; want a connection without a verified certificate", hs, cerr)
		}
	})
	for name, cert := range map[string]*tls.Certificate{"certificate of another CA, presented": &wrongCA, "certificate without client auth usage": &serverOnly} {
		t.Run(name, func(t *testing.T) {
			hs, cerr := connect(t, bundle, cert, true)
			if hs.err == nil || cerr == nil {
				t.Fatalf("server %+v, client %v; want the handshake to fail on both sides", hs, cerr)
			}
			if !strings.Contains(hs.err.Error(), "certificate") {
				t.Errorf("server error %v does not name the certificate", hs.err)
			}
		})
	}
	t.Run("no --client-ca", func(t *testing.T) {
		hs, cerr := connect(t, "", &good, true)
		if hs.err != nil || cerr != nil || hs.verified {
			t.Fatalf("server %+v, client %v; without --client-ca no certificate is asked for or verified", hs, cerr)
		}
	})
}

func TestVerifiedClientConnAllocatesNothing(t *testing.T) {
	trusted := newCA(t, "trusted CA")
	good := trusted.client(t, "good client", x509.ExtKeyUsageClientAuth)
	cfg, err := serverTLS(Config{ClientCA: writePEM(t, trusted)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	server := tls.Server(a, cfg)
	done := make(chan error, 1)
	go func() {
		c := tls.Client(b, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{good}})
		done <- c.Handshake()
	}()
	if err := server.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !auth.VerifiedClientConn(server) {
		t.Fatal("not verified")
	}
	if n := testing.AllocsPerRun(100, func() { auth.VerifiedClientConn(server) }); n != 0 {
		t.Fatalf("allocates %v times per request", n)
	}
	if auth.VerifiedClientConn(a) || auth.VerifiedClientCert(nil) {
		t.Fatal("a plain connection counts as verified")
	}
}

// TestClientCANamesTheFlagForABadBundle: an unreadable bundle, one without
// a certificate, and one with a broken certificate each fail the start
// with --client-ca named.
func TestClientCANamesTheFlagForABadBundle(t *testing.T) {
	dir := t.TempDir()
	write := func(name, contents string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(contents), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.pem"), "no such file"},
		{write("empty.pem", "not PEM at all\n"), "no PEM certificate"},
		{write("key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}))), "no PEM certificate"},
		{write("broken.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}))), "certificate 1"},
	} {
		_, err := serverTLS(Config{ClientCA: c.file}, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "--client-ca") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want --client-ca and %q", filepath.Base(c.file), err, c.want)
		}
	}
}

func TestClientCARefusedWithoutHTTPS(t *testing.T) {
	_, err := ParseConfig(nil, []string{"--client-ca=/etc/ca.pem", "--https-port=0"}, noEnvLookup, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--client-ca") || !strings.Contains(err.Error(), "--https-port") {
		t.Fatalf("err = %v", err)
	}
	c, err := ParseConfig(nil, []string{"--client-ca=/etc/ca.pem"}, noEnvLookup, io.Discard)
	if err != nil || c.ClientCA != "/etc/ca.pem" {
		t.Fatalf("ClientCA = %q, %v", c.ClientCA, err)
	}
}

// TestMandatoryMutualTLSRefusesToStartWithoutClientCA protects against a
// gateway that answers every request of an API with 401 because nothing
// says which client certificates to trust.
func TestMandatoryMutualTLSRefusesToStartWithoutClientCA(t *testing.T) {
	res := func(mode string) spec.Resource {
		r := spec.Resource{Path: "/x", Method: "GET"}
		if mode != "" {
			r.Security = spec.DefaultSecurity()
			r.Security.MutualSSL = mode
		}
		return r
	}
	g := &spec.Gateway{APIs: []spec.API{
		{File: "petstore.yaml", Title: "petstore", Resources: []spec.Resource{res(""), res(spec.MutualSSLMandatory), res(spec.MutualSSLMandatory)}},
		{File: "orders.yaml", Title: "orders", Resources: []spec.Resource{res(spec.MutualSSLOptional)}},
		{File: "bank.yaml", Title: "bank", Resources: []spec.Resource{res(spec.MutualSSLMandatory)}},
	}}
	err := CheckMutualTLS(g, "")
	if err == nil {
		t.Fatal("started")
	}
	msg := err.Error()
	for _, want := range []string{"petstore (petstore.yaml), bank (bank.yaml) require", "--client-ca"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "orders") || strings.Count(msg, "petstore (") != 1 {
		t.Errorf("error %q names an API twice or an optional one", msg)
	}
	if err := CheckMutualTLS(g, "/etc/ca.pem"); err != nil {
		t.Errorf("with --client-ca: %v", err)
	}
	g.APIs = g.APIs[1:2]
	if err := CheckMutualTLS(g, ""); err != nil {
		t.Errorf("optional only: %v", err)
	}
}
