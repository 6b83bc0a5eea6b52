package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// serverTLS returns the HTTPS listener's TLS configuration: the certificate
// of --tls-cert/--tls-key, or a self-signed one generated now. The listener
// speaks HTTP/1.1 only (see docs/design-proxy.md on HTTP/2).
func serverTLS(cfg Config, log *slog.Logger) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if cfg.TLSCert != "" {
		cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load --tls-cert %s and --tls-key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
	} else {
		cert, err = selfSigned()
		if err != nil {
			return nil, fmt.Errorf("generate a self-signed certificate: %w", err)
		}
		log.Warn("HTTPS uses a self-signed certificate generated at start; clients will not trust it. Give --tls-cert and --tls-key for a real one")
	}
	tc := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
	if cfg.ClientCA != "" {
		pool, err := clientCAs(cfg.ClientCA)
		if err != nil {
			return nil, err
		}
		// A client certificate is asked for but not required: the guard
		// requires one per API (x-wso2-mutual-ssl: mandatory), with
		// auth.VerifiedClientCert. A certificate that is given must verify,
		// or the handshake fails.
		tc.ClientAuth = tls.VerifyClientCertIfGiven
		tc.ClientCAs = pool
	}
	return tc, nil
}

// clientCAs reads the --client-ca PEM bundle. Every CERTIFICATE block must
// parse, and there must be at least one; other blocks are ignored.
func clientCAs(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--client-ca: %w; give a PEM bundle of the CA certificates that sign client certificates", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("--client-ca %s: certificate %d: %w; fix or remove it", file, n, err)
		}
		pool.AddCert(c)
	}
	if n == 0 {
		return nil, fmt.Errorf("--client-ca %s: no PEM certificate (-----BEGIN CERTIFICATE-----) in it; give the CA certificates that sign client certificates", file)
	}
	return pool, nil
}

// CheckMutualTLS refuses a gateway whose APIs require client certificates
// (x-wso2-mutual-ssl: mandatory) when no --client-ca says which to trust:
// every request to them would get 401. It names the APIs.
func CheckMutualTLS(g *spec.Gateway, clientCA string) error {
	if clientCA != "" {
		return nil
	}
	var apis []string
	for i := range g.APIs {
		a := &g.APIs[i]
		for j := range a.Resources {
			if s := a.Resources[j].Security; s != nil && s.MutualSSL == spec.MutualSSLMandatory {
				apis = append(apis, fmt.Sprintf("%s (%s)", a.Title, a.File))
				break
			}
		}
	}
	if len(apis) == 0 {
		return nil
	}
	return fmt.Errorf("%s require client certificates (x-wso2-mutual-ssl: mandatory) but --client-ca is not set: give --client-ca=FILE, a PEM bundle of the CAs that sign client certificates, or set x-wso2-mutual-ssl to optional", strings.Join(apis, ", "))
}

// selfSigned makes an ECDSA P-256 certificate for localhost, the loopback
// addresses and the host name, valid for a year.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return tls.Certificate{}, err
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "micro-gw self-signed", Organization: []string{"micro-gw"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
