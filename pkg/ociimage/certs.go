package ociimage

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// caBundles are the system CA bundles, in the order Go's crypto/x509 reads
// them on Linux (root_linux.go), plus the BSDs' and macOS's /etc/ssl/cert.pem.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine, macOS, BSDs
}

// SystemCACerts reads the build machine's CA bundle for the image:
// SSL_CERT_FILE when set (as Go's crypto/x509 honours it), else the first
// system bundle that exists. The bundle is the operating system's, kept up
// to date by its package manager, rather than a copy frozen into micro-gw
// at its release. It returns the bundle and where it came from.
func SystemCACerts(lookupEnv func(string) (string, bool)) ([]byte, string, error) {
	if f, ok := lookupEnv("SSL_CERT_FILE"); ok && f != "" {
		data, err := readBundle(f)
		if err != nil {
			return nil, "", fmt.Errorf("SSL_CERT_FILE=%s: %w; point it at a PEM CA bundle or unset it", f, err)
		}
		return data, f, nil
	}
	for _, f := range caBundles {
		data, err := readBundle(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w; reinstall the ca-certificates package or set SSL_CERT_FILE to a PEM CA bundle", f, err)
		}
		return data, f, nil
	}
	return nil, "", fmt.Errorf("the image needs a CA certificate bundle and none was found (looked in %s); install the ca-certificates package (apt-get install ca-certificates, dnf install ca-certificates or apk add ca-certificates) or set SSL_CERT_FILE to a PEM CA bundle", strings.Join(caBundles, ", "))
}

// readBundle reads a PEM file and checks that it holds certificates.
func readBundle(f string) ([]byte, error) {
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return nil, errors.New("holds no PEM certificate")
	}
	return data, nil
}
