package proxy

import (
	"testing"

	"github.com/micro-gw/micro-gw/internal/loopback"
)

// reservePort holds a loopback port for the whole test (see package
// loopback): connections to it are refused until it is listened on, and no
// other test can take it meanwhile, as one could take a port found free.
func reservePort(t testing.TB) *loopback.Reservation {
	t.Helper()
	r, err := loopback.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// refusedURL is the URL of a backend that refuses every connection.
func refusedURL(t testing.TB) string {
	t.Helper()
	return "http://" + reservePort(t).Addr()
}
