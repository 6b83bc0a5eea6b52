package proxy

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestIncomingRequestIDKeptOnlyWhenSane protects the id rule: an incoming
// X-Request-ID of up to 128 characters of [A-Za-z0-9._-] is kept, any
// other (empty, too long, spaces, quotes, control characters, non-ASCII)
// is replaced by a new id, with no copy of the bad one left.
func TestIncomingRequestIDKeptOnlyWhenSane(t *testing.T) {
	g := newRequestIDs()
	for _, tc := range []struct {
		in   string
		keep bool
	}{
		{"abc-123_X.y", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"a b", false},
		{`a"b`, false},
		{"a\x01b", false},
		{"añb", false},
		{"a/b", false},
	} {
		var h fasthttp.RequestHeader
		if tc.in != "" {
			h.Set(HeaderRequestID, tc.in)
		}
		got := string(g.requestID(&h))
		if kept := got == tc.in; kept != tc.keep {
			t.Errorf("%q: got id %q, kept %v, want kept %v", tc.in, got, kept, tc.keep)
		}
		if !saneRequestID([]byte(got)) || !strings.HasPrefix(got, g.prefix) && !tc.keep {
			t.Errorf("%q: new id %q is not one of ours", tc.in, got)
		}
		if n := strings.Count(h.String(), "X-Request-Id:"); n != 1 {
			t.Errorf("%q: %d X-Request-ID headers after, want 1:\n%s", tc.in, n, h.String())
		}
	}
}

// TestNewRequestIDsAreUniqueAndAllocateNothing protects the hot path: ids
// are rendered into a stack buffer and the header, never the heap, and
// two requests never share one.
func TestNewRequestIDsAreUniqueAndAllocateNothing(t *testing.T) {
	g := newRequestIDs()
	seen := map[string]bool{}
	var h fasthttp.RequestHeader
	for range 1000 {
		h.Reset()
		id := string(g.requestID(&h))
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
	}
	if other := newRequestIDs(); other.prefix == g.prefix {
		t.Fatalf("two processes would share the prefix %q", g.prefix)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		h.Reset()
		h.Set(HeaderRequestID, "bad id")
		g.requestID(&h)
	})
	if allocs != 0 {
		t.Fatalf("making a request id allocates %v times", allocs)
	}
}
