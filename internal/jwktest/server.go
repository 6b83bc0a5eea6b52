package jwktest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// Server is a real JWKS endpoint on loopback whose document, and whether
// it answers, the test changes while a verifier fetches from it.
type Server struct {
	*httptest.Server
	doc atomic.Pointer[[]byte]
	// Down makes the server answer 503 until it is set false again.
	Down atomic.Bool
	// Fetches counts the requests the server received, answered or not.
	Fetches atomic.Int64
}

// NewServer starts a Server publishing keys (JWKs, as JWK renders them),
// closed when the test ends.
func NewServer(t testing.TB, keys ...map[string]any) *Server {
	t.Helper()
	s := &Server{}
	s.Set(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Fetches.Add(1)
		if s.Down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(*s.doc.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// Set publishes keys as the server's document: {"keys": [...]}, an empty
// list for none.
func (s *Server) Set(t testing.TB, keys ...map[string]any) {
	t.Helper()
	if keys == nil {
		keys = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	s.SetRaw(b)
}

// SetRaw publishes b as the server's document, as it is.
func (s *Server) SetRaw(b []byte) { s.doc.Store(&b) }
