package definition

import (
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
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

func TestCheckPath(t *testing.T) {
	tests := []struct {
		path      string
		templates bool
		err       string
	}{
		{"/pet/{petId}", true, ""},
		{"/files/{name}.{ext}", true, ""},
		{"/", true, ""},
		{"/*/`x`/'y'/\"z\"", true, ""},
		{"pet", true, "does not start with /"},
		{"/pet/{", true, "has a { without its }"},
		{"/pet/{id/x}", true, "has a { without its }"},
		{"/pet/}", true, "has a } without its {"},
		{"/pet/{}", true, "has an empty {}"},
		{"/pet/{{id}}", true, "has a { inside another {...}"},
		{"/x/{a}{b}", true, "has two parameters with nothing between them"},
		{"/x/{a}.{b}{c}/y", true, "has two parameters with nothing between them"},
		{"/pet/\nx", true, "control character"},
		{"/pet/\u0085", true, "control character"},
		{"/pet x", true, "contains a space"},
		{"/pet?x=1", true, `contains '?'`},
		{"/pet#x", true, `contains '#'`},
		{"/pet/\xff", true, "is not valid UTF-8"},
		{"/base/{id}", false, "contains { or }"},
		{"/base/v1", false, ""},
	}
	for _, tt := range tests {
		msg, hint := checkPath(tt.path, tt.templates)
		if (tt.err == "") != (msg == "") || !strings.Contains(msg, tt.err) || (msg != "" && hint == "") {
			t.Errorf("checkPath(%q, %v) = %q, %q; want %q", tt.path, tt.templates, msg, hint, tt.err)
		}
	}
}

func TestRouteKey(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"/", "/pet/{petId}", "GET /pet/{}"},
		{"/shop", "/pet/{id}", "GET /shop/pet/{}"},
		{"/shop/pet", "/{petId}", "GET /shop/pet/{}"},
		{"/a", "/{x}.{y}", "GET /a/{}.{}"},
		{"/shop", "/", "GET /shop"},
		{"/", "/", "GET /"},
	}
	for _, tt := range tests {
		if got := routeKey(tt.base, tt.path, "GET"); got != tt.want {
			t.Errorf("routeKey(%q, %q) = %q, want %q", tt.base, tt.path, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"x-wso2-basepath", extBasePath},
		{"x-wso2-production-endpoint", extProduction},
		{"x-wso2-sandbox-endpoint", extSandbox},
		{"x-wso2-cors-config", extCORS},
		{"x-wso2-disable-securty", "x-wso2-disable-security"},
	}
	for _, tt := range tests {
		if got := nearest(tt.in, knownExts); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d, want 3", d)
	}
}

// TestWarnings covers the warnings a definition can earn, each with its line.
func TestWarnings(t *testing.T) {
	const def = `openapi: 3.0.3
info: {title: t, version: "1"}
x-wso2-production-endpoints:
  urls: [http://a]
  advanceEndpointConfig:
    timeoutInMilis: 5
  securityConfig: {type: basic}
x-wso2-cors:
  accessControlAllowOrigins: ["*"]
x-wso2-transports: [http]
x-wso2-mutual-ssl: optional
x-wso2-productionendpoints: {}
paths:
  /x:
    x-wso2-cors: {}
    get:
      x-wso2-basePath: /nope
      x-wso2-throttling-tier: Gold
      x-wso2-sandbox-endpoints: {urls: [http://s]}
      responses:
        "200": {description: ok}
components:
  schemas:
    S:
      type: object
      x-wso2-production-endpoints: {urls: [http://b]}
`
	api, ws, err := ParseDefinition("w.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	if api.BasePath != "/" || api.CORS == nil || !api.CORS.Enabled || strings.Join(api.Transports, ",") != "http" {
		t.Errorf("base path %q, cors %+v, transports %v", api.BasePath, api.CORS, api.Transports)
	}
	want := []string{
		`w.yaml: no x-wso2-basePath, and no path in servers[0] (basePath in Swagger 2.0): the API is served at /`,
		`w.yaml:6: API level: advanceEndpointConfig: unknown key "timeoutInMilis" is ignored; did you mean timeoutInMillis?`,
		`w.yaml:7: API level: endpoint securityConfig (credentials for the backend) is not supported yet, so ignored`,
		`w.yaml:11: not supported yet, so ignored: x-wso2-mutual-ssl, x-wso2-throttling-tier (`,
		`w.yaml:12: unknown extension x-wso2-productionendpoints is ignored; did you mean x-wso2-production-endpoints?`,
		`w.yaml:15: x-wso2-cors is read at API level only; ignored here`,
		`w.yaml:17: x-wso2-basePath is read at API level only; ignored here`,
		`w.yaml:19: sandbox endpoints are checked and their etcd keys resolved`,
		`w.yaml:26: x-wso2-production-endpoints is read at API level and in operations only; ignored here`,
	}
	wantWarnings(t, ws, want...)
	if len(ws) != len(want) {
		t.Errorf("got %d warnings, want %d:\n%v", len(ws), len(want), ws)
	}
}
