package definition

import (
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

func TestParseEtcdEntry(t *testing.T) {
	tests := []struct {
		in       string
		key, def string
		err      string
	}{
		{in: "etcd(petstore,https://www.example.com)", key: "petstore", def: "https://www.example.com"},
		{in: "etcd (petstore, https://www.example.com)", key: "petstore", def: "https://www.example.com"},
		{in: "  etcd\t(  pet store ,\thttp://127.0.0.1:8080/v1/ )  ", key: "pet store", def: "http://127.0.0.1:8080/v1/"},
		{in: "etcd(/services/petstore, http://h:1)", key: "/services/petstore", def: "http://h:1"},
		{in: "etcd(a)", err: "it has 1 part(s), want exactly 2"},
		{in: "etcd(a,b,c)", err: "it has 3 part(s), want exactly 2"},
		{in: "etcd(a, http://x, http://y)", err: "it has 3 part(s)"},
		{in: "etcd(, http://x)", err: "the key is empty"},
		{in: "etcd(  , http://x)", err: "the key is empty"},
		{in: "etcd(k, notaurl)", err: "the default URL is not usable"},
		{in: "etcd(k, )", err: "the default URL is not usable"},
		{in: "etcd(k, ftp://x)", err: "the default URL is not usable"},
		{in: "etcd(k, http://x", err: "it does not end with )"},
		{in: "etcd k, http://x)", err: "etcd is not followed by ("},
		{in: "etcd", err: "etcd is not followed by ("},
		{in: "etcd((k, http://x))", err: "parentheses inside etcd(...) are not allowed"},
		{in: "etcd(k, http://x))", err: "parentheses inside"},
		{in: "etcd(k\x00, http://x)", err: "control character"},
		{in: "ETCD(k, http://x)", err: "must start with etcd, in lower case"},
	}
	for _, tt := range tests {
		key, def, err := parseEtcdEntry(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseEtcdEntry(%q) = %q, %q, %v; want error %q", tt.in, key, def, err, tt.err)
		case tt.err == "" && (err != nil || key != tt.key || def != tt.def):
			t.Errorf("parseEtcdEntry(%q) = %q, %q, %v; want %q, %q", tt.in, key, def, err, tt.key, tt.def)
		}
	}
}

func TestParseEndpointURL(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "https://h.example.com/v1", want: "https://h.example.com/v1"},
		{in: " http://127.0.0.1:9 ", want: "http://127.0.0.1:9"},
		{in: "etcd (k, https://d.example.com)", want: "etcd(k, https://d.example.com)"},
		{in: "etcd k", err: "malformed etcd entry"},
		{in: "etcdhost.example.com", err: "bad endpoint URL"},
		{in: "https://user:pw@h/", err: "bad endpoint URL"},
		{in: "h.example.com", err: "bad endpoint URL"},
	}
	for _, tt := range tests {
		u, err := parseEndpointURL(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseEndpointURL(%q) = %v, %v; want error %q", tt.in, u, err, tt.err)
		case tt.err == "" && (err != nil || u.String() != tt.want):
			t.Errorf("parseEndpointURL(%q) = %v, %v; want %q", tt.in, u, err, tt.want)
		}
	}
}

// TestMalformedEtcdEntryNeverShowsPassword: a build error repeats the entry
// as written, so a password in its default URL must be redacted.
func TestMalformedEtcdEntryNeverShowsPassword(t *testing.T) {
	for _, in := range []string{"etcd(k, http://user:s3cret@h/v1, http://x)", "etcd(k, http://user:s3cret@h/v1"} {
		_, err := parseEndpointURL(in)
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "xxxxx") {
			t.Errorf("parseEndpointURL(%q) error = %v; want it redacted", in, err)
		}
	}
}

// FuzzParseEtcdEntry checks the grammar's promises on any input: an accepted
// entry has a trimmed, non-empty key without separators or control
// characters, a default that endpoint.Parse accepts, and reads back the same
// when written in canonical form.
func FuzzParseEtcdEntry(f *testing.F) {
	for _, s := range []string{"etcd(petstore, https://www.example.com)", "etcd (k,http://h:1/x)", "etcd(a)", "etcd(,)", "etcd(k, http://x", "etcd(k\n, http://x)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, def, err := parseEtcdEntry(s)
		if err != nil {
			return
		}
		if key == "" || key != strings.TrimSpace(key) || strings.ContainsAny(key, ",()") ||
			strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("%q: bad key %q", s, key)
		}
		if _, err := endpoint.Parse(def); err != nil {
			t.Fatalf("%q: default %q does not parse: %v", s, def, err)
		}
		k2, d2, err := parseEtcdEntry("etcd(" + key + ", " + def + ")")
		if err != nil || k2 != key || d2 != def {
			t.Fatalf("%q: canonical form reads back as %q, %q, %v", s, k2, d2, err)
		}
	})
}

// TestHTTPListKeepsOnlyTheURLItUses protects where spec's rule for type
// http (Endpoints.Active: the first URL only) is applied on the build side:
// the model keeps the URL the gateway uses, so an ignored etcd entry is
// neither watched nor reported as a conflicting default, and a warning
// names what was ignored.
func TestHTTPListKeepsOnlyTheURLItUses(t *testing.T) {
	const def = `openapi: 3.0.3
info: {title: t, version: "1"}
x-wso2-basePath: /t
x-wso2-production-endpoints:
  type: http
  urls: [http://a.example.com, "etcd(ignored, http://b.example.com)"]
paths:
  /x:
    get:
      x-wso2-production-endpoints: {urls: ["etcd(ignored, http://c.example.com)"]}
      responses:
        "200": {description: ok}
`
	api, ws, err := Parse("h.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	if got := api.Production.URLs; len(got) != 1 || got[0].URL != "http://a.example.com" {
		t.Errorf("API-level URLs = %v, want the first only", got)
	}
	g := spec.Gateway{APIs: []spec.API{*api}}
	if defaults, conflicts := g.EtcdDefaults(); len(defaults) != 1 || defaults[0].URL != "http://c.example.com" || len(conflicts) != 0 {
		t.Errorf("etcd defaults %v, conflicts %v; want only the operation's", defaults, conflicts)
	}
	wantWarnings(t, ws, "h.yaml:5: API level: type http uses one URL; building with the first, http://a.example.com, and ignoring 1 more")
}
