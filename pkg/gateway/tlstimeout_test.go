package gateway

import (
	"crypto/tls"
	"io"
	"strings"
	"testing"
	"time"
)

// TestHTTPSClientTooSlowGets408: an HTTPS client that does not finish its
// request within --client-read-timeout gets the 408 answer, as an HTTP
// client does. fasthttp leaves the TLS handshake's write deadline on the
// connection, which expires with the read timeout: the 408 record was cut,
// and the client read a broken TLS stream ("bad record MAC") instead.
func TestHTTPSClientTooSlowGets408(t *testing.T) {
	gw, _ := startTest(t, routesFor("http://127.0.0.1:1"),
		testConfig(t, "--client-read-timeout=300ms", "--client-write-timeout=300ms"))
	c, err := tls.Dial("tcp", gw.HTTPSAddr.String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c) // the request never ends: the gateway answers and closes
	if !strings.HasPrefix(string(b), "HTTP/1.1 408 ") || err != nil {
		t.Fatalf("HTTPS client past the read timeout: got %q, error %v; want 408 and a clean close", b, err)
	}
}
