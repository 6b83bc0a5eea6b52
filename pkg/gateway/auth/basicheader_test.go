package auth

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"testing"
)

func basicOf(userpass string) string {
	return base64.StdEncoding.EncodeToString([]byte(userpass))
}

func TestParseBasic(t *testing.T) {
	cases := []struct {
		header, user, pass string
		ok                 bool
	}{
		{"Basic " + basicOf("alice:a-pass"), "alice", "a-pass", true},
		{"basic " + basicOf("alice:a-pass"), "alice", "a-pass", true},
		{"BASIC   " + basicOf("alice:a:b") + "  ", "alice", "a:b", true},
		{"Basic " + basicOf("alice:"), "alice", "", true},
		{"Basic " + basicOf(":x"), "", "x", true},
		{"Basic " + basicOf("alice"), "", "", false},                                     // no colon
		{"Basic " + basicOf("alice:a-pass")[:10], "", "", false},                         // cut base64
		{"Basic " + basicOf("alice:a-pass") + "!", "", "", false},                        // not base64
		{"Basic " + base64.RawStdEncoding.EncodeToString([]byte("al:x")), "", "", false}, // unpadded
		{"Basic", "", "", false},
		{"Basic ", "", "", false},
		{"Basicx " + basicOf("a:b"), "", "", false},
		{"Bearer " + basicOf("a:b"), "", "", false},
		{"Basic\t" + basicOf("a:b"), "", "", false},
		{"", "", "", false},
	}
	for _, c := range cases {
		var buf [64]byte
		user, pass, ok := ParseBasic([]byte(c.header), buf[:0])
		if ok != c.ok || string(user) != c.user || string(pass) != c.pass {
			t.Errorf("ParseBasic(%q) = %q, %q, %v; want %q, %q, %v", c.header, user, pass, ok, c.user, c.pass, c.ok)
		}
	}
}

func TestParseBasicDecodesIntoTheCallersBuffer(t *testing.T) {
	v := []byte("Basic " + basicOf("alice:a-pass"))
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { ParseBasic(v, buf) }); n != 0 {
		t.Fatalf("allocates %v times with a large enough buffer", n)
	}
	user, pass, ok := ParseBasic([]byte("Basic "+basicOf("a-long-user-name:and-a-long-password")), make([]byte, 0, 4))
	if !ok || string(user) != "a-long-user-name" || string(pass) != "and-a-long-password" {
		t.Fatalf("small buffer: %q %q %v", user, pass, ok)
	}
}

// FuzzParseBasic checks ParseBasic against net/http's reading of the same
// header: whatever net/http accepts, ParseBasic reads the same way, and
// whatever ParseBasic accepts round-trips through an encoding.
func FuzzParseBasic(f *testing.F) {
	f.Add("Basic " + basicOf("alice:a-pass"))
	f.Add("basic  " + basicOf(":"))
	f.Add("Basic " + basicOf("a"))
	f.Add("Basic ====")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, h string) {
		user, pass, ok := ParseBasic([]byte(h), nil)
		r := http.Request{Header: http.Header{"Authorization": {h}}}
		if hu, hp, hok := r.BasicAuth(); hok && (!ok || hu != string(user) || hp != string(pass)) {
			t.Fatalf("net/http reads %q as %q, %q; ParseBasic as %q, %q, %v", h, hu, hp, user, pass, ok)
		}
		if !ok {
			return
		}
		if bytes.IndexByte(user, ':') >= 0 {
			t.Fatalf("user %q has a colon", user)
		}
		again := "Basic " + base64.StdEncoding.EncodeToString(append(append(append([]byte{}, user...), ':'), pass...))
		u2, p2, ok2 := ParseBasic([]byte(again), make([]byte, 0, 8))
		if !ok2 || !bytes.Equal(u2, user) || !bytes.Equal(p2, pass) {
			t.Fatalf("%q does not round-trip: %q, %q, %v", h, u2, p2, ok2)
		}
	})
}
