package router

import (
	"fmt"
	"strings"
	"testing"
)

func build(t testing.TB, routes ...string) *Router[string] {
	t.Helper()
	var entries []Entry[string]
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		entries = append(entries, Entry[string]{Path: path, Method: method, Value: r})
	}
	rt, err := New(entries)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestLookup(t *testing.T) {
	rt := build(t,
		"GET /petstore/v1/pet/{petId}",
		"DELETE /petstore/v1/pet/{petId}",
		"GET /petstore/v1/pet/findByStatus",
		"POST /petstore/v1/pet",
		"PUT /petstore/v1/pet",
		"GET /petstore/v1/a/{x}/b",
		"GET /petstore/v1/a/lit/c",
		"GET /petstore/v1/files/{name}.json",
		"GET /petstore/v1/v{major}.{minor}/info",
		"GET /petstore/v1",
		"GET /",
		"GET /other/{a}/{b}",
	)
	tests := []struct {
		method, path string
		want         string // value, or "405 <allow>" or "404"
	}{
		{"GET", "/petstore/v1/pet/12", "GET /petstore/v1/pet/{petId}"},
		{"DELETE", "/petstore/v1/pet/12", "DELETE /petstore/v1/pet/{petId}"},
		{"GET", "/petstore/v1/pet/findByStatus", "GET /petstore/v1/pet/findByStatus"},
		{"DELETE", "/petstore/v1/pet/findByStatus", "405 GET"},
		{"POST", "/petstore/v1/pet", "POST /petstore/v1/pet"},
		{"GET", "/petstore/v1/pet", "405 POST, PUT"},
		{"PATCH", "/petstore/v1/pet/12", "405 DELETE, GET"},
		{"GET", "/petstore/v1/pet/12/", "GET /petstore/v1/pet/{petId}"},
		{"GET", "/petstore/v1/pet/12/x", "404"},
		{"GET", "/petstore/v1/pet/", "405 POST, PUT"}, // trailing slash ignored
		{"GET", "/petstore/v1/pet//", "404"},
		{"GET", "/petstore/v1/pet/..", "404"},
		{"GET", "/petstore/v1/pet/.", "404"},
		{"GET", "/petstore/v1/pet/%2e%2E", "404"},
		{"GET", "/petstore/v1/pet/...", "GET /petstore/v1/pet/{petId}"},
		{"GET", "/petstore/v1/pet/a%2Fb", "GET /petstore/v1/pet/{petId}"},
		{"GET", "/petstore/v1/a/lit/b", "GET /petstore/v1/a/{x}/b"}, // backtracks from the literal
		{"GET", "/petstore/v1/a/lit/c", "GET /petstore/v1/a/lit/c"},
		{"GET", "/petstore/v1/a/zz/b", "GET /petstore/v1/a/{x}/b"},
		{"GET", "/petstore/v1/files/report.json", "GET /petstore/v1/files/{name}.json"},
		{"GET", "/petstore/v1/files/.json", "404"},
		{"GET", "/petstore/v1/files/report.xml", "404"},
		{"GET", "/petstore/v1/v2.10/info", "GET /petstore/v1/v{major}.{minor}/info"},
		{"GET", "/petstore/v1/v2/info", "404"},
		{"GET", "/petstore/v1", "GET /petstore/v1"},
		{"GET", "/petstore/v1/", "GET /petstore/v1"},
		{"GET", "/", "GET /"},
		{"GET", "/other/x/y", "GET /other/{a}/{b}"},
		{"GET", "/other/x", "404"},
		{"GET", "/nothing", "404"},
		{"GET", "", "404"},
		{"GET", "petstore/v1", "404"},
		{"get", "/petstore/v1", "405 GET"},
	}
	for _, tt := range tests {
		v, allow, ok := rt.Lookup([]byte(tt.method), []byte(tt.path))
		got := v
		switch {
		case !ok && allow != "":
			got = "405 " + allow
		case !ok:
			got = "404"
		}
		if got != tt.want {
			t.Errorf("%s %q: got %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// TestParameterNeverMatchesDotSegmentWithPathParameters: Tomcat, Jetty and
// Spring strip ";parameters" from a segment before resolving dot segments,
// so they read "..;" as "..": /other/..;/..; forwarded to such a backend
// climbs out of its base path as /other/../.. would. A parameter refuses
// such a segment, as it refuses "..", and still takes other values with ';'.
func TestParameterNeverMatchesDotSegmentWithPathParameters(t *testing.T) {
	rt := build(t, "GET /other/{a}/{b}", "GET /files/{name}.json")
	for path, want := range map[string]bool{
		"/other/..;/..;":           false,
		"/other/..;jsessionid=1/x": false,
		"/other/x/.;":              false,
		"/other/%2e%2e;/x":         false,
		"/other/a;b/..;c":          false,
		"/files/..;x.json":         false,
		"/other/a;b/c;d=1":         true,
		"/other/...;/x":            true,
		"/other/;/x":               true,
		"/other/x..;/y":            true,
	} {
		if _, _, ok := rt.Lookup([]byte("GET"), []byte(path)); ok != want {
			t.Errorf("GET %s: matched %v, want %v", path, ok, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		routes []string
		want   string
	}{
		{[]string{"GET /a/{id}", "GET /a/{name}"}, `duplicates GET "/a/{id}"`},
		{[]string{"GET /a", "GET /a"}, "duplicates"},
		{[]string{"GET a"}, "must start with"},
		{[]string{"get /a"}, "upper-case"},
		{[]string{"GET /a/{id"}, "unbalanced"},
		{[]string{"GET /a/id}"}, "without"},
		{[]string{"GET /a/{}"}, "empty or nested"},
		{[]string{"GET /a/{x}{y}"}, "nothing between"},
	}
	for _, tt := range tests {
		var entries []Entry[int]
		for _, r := range tt.routes {
			m, p, _ := strings.Cut(r, " ")
			entries = append(entries, Entry[int]{Path: p, Method: m})
		}
		_, err := New(entries)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got error %v, want one containing %q", tt.routes, err, tt.want)
		}
	}
}

func TestLookupAllocatesNothing(t *testing.T) {
	rt := build(t, "GET /petstore/v1/pet/{petId}", "GET /petstore/v1/files/{name}.json")
	m, p1, p2 := []byte("GET"), []byte("/petstore/v1/pet/12"), []byte("/petstore/v1/files/a.json")
	allocs := testing.AllocsPerRun(100, func() {
		rt.Lookup(m, p1)
		rt.Lookup(m, p2)
	})
	if allocs != 0 {
		t.Fatalf("Lookup allocates %v times per call, want 0", allocs)
	}
}

// scaled returns n routes spread over APIs, resources with parameters, and
// the request paths hitting a sample of them.
func scaled(n int) (routes []string, paths [][]byte) {
	for i := range n {
		api := i % 10
		switch i % 3 {
		case 0:
			routes = append(routes, fmt.Sprintf("GET /api%d/v1/res%d/{id}", api, i))
		case 1:
			routes = append(routes, fmt.Sprintf("GET /api%d/v1/res%d/{id}/items/{item}", api, i))
		default:
			routes = append(routes, fmt.Sprintf("GET /api%d/v1/res%d", api, i))
		}
	}
	for i := 0; i < n; i += max(1, n/10) {
		p := strings.TrimPrefix(routes[i], "GET ")
		p = strings.NewReplacer("{id}", "42", "{item}", "7").Replace(p)
		paths = append(paths, []byte(p))
	}
	return routes, paths
}

func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			routes, paths := scaled(n)
			rt := build(b, routes...)
			get := []byte("GET")
			for _, p := range paths {
				if _, _, ok := rt.Lookup(get, p); !ok {
					b.Fatalf("%s does not match", p)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				rt.Lookup(get, paths[i%len(paths)])
				i++
			}
		})
	}
}

// TestAppendMatchPath pins the match form: escapes decoded except those of
// '/', '\', NUL and '%', kept upper-case; a malformed escape is reported.
func TestAppendMatchPath(t *testing.T) {
	for _, tt := range []struct {
		path, want string
		ok         bool
	}{
		{"/pet/1", "/pet/1", true},
		{"/caf%C3%A9", "/café", true},
		{"/caf%c3%a9", "/café", true},
		{"/a%3Ab", "/a:b", true},
		{"/%7Euser/a%2Db%5Fc%2e", "/~user/a-b_c.", true},
		{"/a%2fb%2F..%5c%5Cc", "/a%2Fb%2F..%5C%5Cc", true},
		{"/nul%00", "/nul%00", true},
		{"/pct%25%32%46", "/pct%252F", true},
		{"/q%3F%23", "/q?#", true},
		{"/bad%", "", false},
		{"/bad%4", "", false},
		{"/bad%zz", "", false},
		{"/bad%G1", "", false},
	} {
		got, ok := AppendMatchPath(nil, []byte(tt.path))
		if ok != tt.ok || (ok && string(got) != tt.want) {
			t.Errorf("AppendMatchPath(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

// TestLookupDecodedPaths: requests whose paths escape characters that the
// templates write plainly (non-ASCII, reserved) reach them, and templates
// written with escapes are matched by their decoded form.
func TestLookupDecodedPaths(t *testing.T) {
	rt := build(t,
		"GET /café",
		"GET /a:b",
		"GET /my%20file",
		"GET /files/{name}%2Ejson",
		"GET /pet/{petId}",
	)
	for _, tt := range []struct{ path, want string }{
		{"/caf%C3%A9", "GET /café"},
		{"/café", "GET /café"},
		{"/a%3Ab", "GET /a:b"},
		{"/a%3ab", "GET /a:b"},
		{"/my%20file", "GET /my%20file"},
		{"/files/report.json", "GET /files/{name}%2Ejson"},
		{"/files/report%2ejson", "GET /files/{name}%2Ejson"},
		{"/pet/%31", "GET /pet/{petId}"},
		{"/pet/1%2F..%2Fadmin", "GET /pet/{petId}"}, // one segment: %2F stays escaped
		{"/pet/%2e%2e", "404"},
		{"/caf%C3%A8", "404"},
	} {
		m, ok := AppendMatchPath(nil, []byte(tt.path))
		if !ok {
			t.Fatalf("%q: malformed", tt.path)
		}
		v, _, found := rt.Lookup([]byte("GET"), m)
		if !found {
			v = "404"
		}
		if v != tt.want {
			t.Errorf("GET %q (match form %q): got %q, want %q", tt.path, m, v, tt.want)
		}
	}
}

// TestKeyIsWhatNewFilesRoutesUnder protects the one grammar of path
// templates: the build checks templates and finds duplicate routes with
// Key, so two templates must have one key exactly when New takes them for
// one route, and Key must refuse what New refuses, for the same reason.
func TestKeyIsWhatNewFilesRoutesUnder(t *testing.T) {
	templates := []string{"/pet/{id}", "/pet/{petId}", "/pet/x", "/café", "/caf%C3%A9", "/caf%c3%a9", "/a%2Fb", "/a/b",
		"/files/{name}.{ext}", "/files/{n}.{e}", "/files/{name}.json", "/", "/x/", "/x"}
	for _, a := range templates {
		for _, b := range templates {
			ka, errA := Key(a)
			kb, errB := Key(b)
			if errA != nil || errB != nil {
				t.Fatalf("Key(%q), Key(%q): %v, %v", a, b, errA, errB)
			}
			_, err := New([]Entry[int]{{Path: a, Method: "GET"}, {Path: b, Method: "GET"}})
			if dup := err != nil; dup != (ka == kb) {
				t.Errorf("%q (key %q) and %q (key %q): New error %v", a, ka, b, kb, err)
			}
		}
	}
	for _, bad := range []string{"a", "/a/{id", "/a/id}", "/a/{}", "/a/{x}{y}", "/a/{{x}}"} {
		_, kerr := Key(bad)
		_, nerr := New([]Entry[int]{{Path: bad, Method: "GET"}})
		if kerr == nil || nerr == nil || !strings.HasSuffix(nerr.Error(), ": "+kerr.Error()) {
			t.Errorf("%q: Key error %v, New error %v; want both, New's ending with Key's", bad, kerr, nerr)
		}
	}
}
