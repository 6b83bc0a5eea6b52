package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// TestTransportConnectionReuse sends, one after the other, responses read
// at once (small, no body) and streamed ones (large, chunked): all of them
// go over one backend connection, until the backend answers with
// Connection: close.
func TestTransportConnectionReuse(t *testing.T) {
	var backendConns atomic.Int32
	big := strings.Repeat("b", maxBufferedBody+1)
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/pet/small":
			io.WriteString(w, "small")
		case "/v2/pet/big":
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			io.WriteString(w, big)
		case "/v2/pet/chunked":
			for range 3 {
				io.WriteString(w, big[:1000])
				w.(http.Flusher).Flush()
			}
		case "/v2/pet/none":
			w.WriteHeader(http.StatusNoContent)
		case "/v2/pet/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "closing")
		}
	}))
	be.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			backendConns.Add(1)
		}
	}
	be.Start()
	defer be.Close()
	gw := startGateway(t, petstore(be.URL, 0), Options{})

	for i, tt := range []struct {
		path   string
		status int
		body   string
		conns  int32
	}{
		{"small", 200, "small", 1},
		{"big", 200, big, 1},
		{"small", 200, "small", 1},
		{"chunked", 200, big[:3000], 1},
		{"none", 204, "", 1},
		{"small", 200, "small", 1},
		{"close", 200, "closing", 1},
		{"small", 200, "small", 2},
		{"big", 200, big, 2},
	} {
		resp, body := get(t, nil, newReq(t, "GET", gw.url+"/petstore/v1/pet/"+tt.path, nil))
		if resp.StatusCode != tt.status || body != tt.body {
			t.Fatalf("request %d (%s): got %d, %d bytes, want %d, %d bytes", i, tt.path, resp.StatusCode, len(body), tt.status, len(tt.body))
		}
		if n := backendConns.Load(); n != tt.conns {
			t.Errorf("after request %d (%s): %d backend connections, want %d", i, tt.path, n, tt.conns)
		}
	}
}

// TestTransportRetriesClosedPooledConnection: a backend closing every
// connection after one answer, without saying so, still answers every GET,
// which is sent again on a new connection.
func TestTransportRetriesClosedPooledConnection(t *testing.T) {
	var served atomic.Int32
	be := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		if _, err := http.ReadRequest(r); err != nil {
			return
		}
		served.Add(1)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	gw := startGateway(t, petstore(be, 0), Options{})
	for i := range 10 {
		resp, body := get(t, nil, newReq(t, "GET", gw.url+"/petstore/v1/pet/1", nil))
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: got %d %q, want 200 \"ok\"", i, resp.StatusCode, body)
		}
	}
	if n := served.Load(); n < 10 {
		t.Errorf("backend served %d requests, want at least 10", n)
	}
}

// TestTransportShortBody: a body read at once that ends early is a backend
// failure, 502 when the connection breaks and 504 when it stalls.
func TestTransportShortBody(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten.."
	reset := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		http.ReadRequest(r)
		io.WriteString(c, head)
		c.SetLinger(0) // close with RST
	})
	stall := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		http.ReadRequest(r)
		io.WriteString(c, head)
		r.ReadByte() // until the gateway gives up and closes
	})
	for _, tt := range []struct {
		name, backend string
		want          *fault.Fault
	}{
		{"reset", reset, fault.BackendUnreachable},
		{"stall", stall, fault.BackendTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := startGateway(t, petstore(tt.backend, 300), Options{})
			resp, body := get(t, nil, newReq(t, "GET", gw.url+"/petstore/v1/pet/1", nil))
			if resp.StatusCode != tt.want.Status || withoutID(body) != string(tt.want.Body) {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.want.Status, tt.want.Body)
			}
		})
	}
}
