package definition

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/internal/golden"
	"github.com/micro-gw/micro-gw/pkg/codegen"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// TestLoadDirGood loads testdata/defs/good and compares the route table
// the gateway embeds (routes.json) for each definition with
// testdata/golden/good/<file>.routes.json: every field the loader builds,
// from base paths and endpoint types to etcd keys, advanced settings and
// CORS. Run with -update to rewrite them after an intended change, and
// review the diff.
func TestLoadDirGood(t *testing.T) {
	res, err := LoadDir("testdata/defs/good")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, a := range res.APIs {
		files = append(files, a.File)
	}
	if got, want := strings.Join(files, " "), "oas31.yaml petstore_oas3.yaml petstore_swagger.yaml plain.json"; got != want {
		t.Fatalf("files = %q, want %q (sorted by name)", got, want)
	}
	if res.Resources != 10 {
		t.Errorf("Resources = %d, want 10", res.Resources)
	}
	for _, api := range res.APIs {
		t.Run(api.File, func(t *testing.T) {
			g := &spec.Gateway{Project: "golden", Version: "0.0.0-golden", APIs: []spec.API{api}}
			generated, err := codegen.Generated(g)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "golden", "good", api.File+".routes.json"), generated[path.Join(codegen.MainPackage, "routes.json")])
		})
	}

	wantWarnings(t, res.Warnings,
		"good/petstore_swagger.yaml:43: unknown extension x-wso2-basepath is ignored; did you mean x-wso2-basePath?",
		"good/petstore_swagger.yaml:50: GET /store/inventory: x-wso2-application-security is not applied: x-wso2-disable-security: true (line 41) serves the operation open",
		"good/petstore_swagger.yaml:67: PATCH /user/{username}: type http uses one URL; building with the first, https://only-first.example.com, and ignoring 1 more",
		"good/petstore_swagger.yaml:35: sandbox endpoints are never used",
		`good/oas31.yaml:5: API level: server "/" is not an absolute http(s) URL, so not an endpoint; the other servers serve the API`,
	)
	if len(res.Warnings) != 5 {
		t.Errorf("got %d warnings, want 5: %v", len(res.Warnings), res.Warnings)
	}
}

func wantEndpoints(t *testing.T, what string, e *spec.Endpoints, typ string, urls ...string) {
	t.Helper()
	if e == nil {
		t.Errorf("%s: no endpoints", what)
		return
	}
	var got []string
	for _, u := range e.URLs {
		got = append(got, u.String())
	}
	if e.Type != typ || strings.Join(got, " ") != strings.Join(urls, " ") {
		t.Errorf("%s: got %s %v, want %s %v", what, e.Type, got, typ, urls)
	}
}

// wantWarnings checks that each want is the start of one warning's text.
func wantWarnings(t *testing.T, ws []Warning, wants ...string) {
	t.Helper()
	for _, want := range wants {
		found := false
		for _, w := range ws {
			if strings.HasPrefix(w.String(), want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no warning starting %q in:\n%v", want, ws)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	const etcdHint = "write etcd(<key>, <default_URL>), e.g. etcd(petstore, https://petstore.example.com/v1)"
	tests := []struct {
		file string
		line int
		// want are substrings of the error text, after "<file>:<line>: ".
		want []string
	}{
		{"empty.yaml", 0, []string{"the file is empty", `starts with "openapi: 3.0.3"`}},
		{"syntax.yaml", 4, []string{"YAML/JSON syntax error: mapping values are not allowed", "fix the syntax at that line"}},
		{"syntax.json", 3, []string{"YAML/JSON syntax error:", "fix the syntax"}},
		{"list.yaml", 1, []string{"not an OpenAPI or Swagger definition: the document is a list", `starts with "openapi: 3.0.3"`}},
		{"noversion.yaml", 0, []string{"there is no top-level openapi or swagger field", `"swagger: \"2.0\""`}},
		{"badversion.yaml", 1, []string{`openapi version "2.5.0" is not supported`, "write openapi: 3.0.3 or 3.1.0"}},
		{"external_ref.yaml", 9, []string{`$ref "other.yaml#/Pet" points into another file, which micro-gw does not read`, "references must point inside the same file"}},
		{"url_notabsolute.yaml", 7, []string{`API level: bad endpoint URL: "ftp://files.example.com" is not an absolute http(s) URL`, "write an absolute http(s) URL such as"}},
		{"url_relative.yaml", 7, []string{`API level: bad endpoint URL: "/relative/path"`, "or etcd(<key>, <default_URL>)"}},
		{"type_unknown.yaml", 6, []string{`API level: unknown endpoint type "round_robin"`, "use one of http, load_balance, failover (did you mean load_balance?)"}},
		{"ref_undefined.yaml", 5, []string{`x-wso2-production-endpoints refers to "#/x-wso2-endpoints/missing", which is not defined`, "(defined: present)"}},
		{"etcd_onepart.yaml", 13, []string{`GET /x: malformed etcd entry "etcd(a)": it has 1 part(s), want exactly 2`, etcdHint}},
		{"etcd_threeparts.yaml", 11, []string{`GET /x: malformed etcd entry "etcd(a, http://x, http://y)": it has 3 part(s)`, etcdHint}},
		{"etcd_emptykey.yaml", 11, []string{`GET /x: malformed etcd entry "etcd(, http://x)": the key is empty`, etcdHint}},
		{"etcd_badurl.yaml", 6, []string{`API level: malformed etcd entry "etcd(k, notaurl)": the default URL is not usable`, etcdHint}},
		{"etcd_unbalanced.yaml", 6, []string{`malformed etcd entry "etcd(k, http://x": it does not end with )`, etcdHint}},
		{"adv_negative.yaml", 8, []string{`API level: timeoutInMillis must be a whole number from 0 to 2147483647, got "-5"`, "write e.g. timeoutInMillis: 1000"}},
		{"adv_threshold.yaml", 9, []string{`failureThreshold must be a number from 0 to 1, got "1.5"`}},
		{"adv_status.yaml", 9, []string{`status code "700" is not a number from 100 to 599`, "statusCodes: [500, 502, 503]"}},
		{"no_endpoint.yaml", 7, []string{"GET /x: no production endpoint serves this operation", "or an absolute http(s) URL under servers"}},
		{"no_endpoint_servers.yaml", 11, []string{"GET /x: no production endpoint serves this operation"}},
		{"op_missing_endpoint.yaml", 14, []string{"GET /y: no production endpoint serves this operation; add x-wso2-production-endpoints to this operation or at API level"}},
		{"basepath_newline.yaml", 5, []string{`x-wso2-basePath "/a\nb"`, `contains the control character '\n'`}},
		{"path_braces.yaml", 7, []string{"path /x/{{id}}: has a { inside another {...}", "write each path parameter once as {name}"}},
		{"path_control.yaml", 7, []string{`path "/x\ty": contains the control character '\t'`}},
		{"path_adjacent.yaml", 7, []string{"path /x/{a}{b}.json: has two parameters with nothing between them", "put fixed text between them, e.g. /x/{a}-{b}.json, or make them one parameter"}},
		{"route_template_same_file.yaml", 13, []string{`GET /a/{other}: route GET /a/{other} is also served by GET /a/{id} in this file (line 8)`, "name the parameters alike"}},
		{"cors_header_injection.yaml", 7, []string{`accessControlAllowOrigins entry "https://a.example.com\r\nSet-Cookie: x=1" holds a control character`}},
	}
	entries, err := os.ReadDir("testdata/defs/bad")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(tests) {
		t.Errorf("testdata/defs/bad has %d files, the table %d: every file needs a case", len(entries), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/defs/bad/" + tt.file
			api, _, err := LoadFile(path)
			if err == nil {
				t.Fatalf("loaded %+v, want an error", api)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *Error", err, err)
			}
			if de.File != path || de.Line != tt.line {
				t.Errorf("located at %s:%d, want %s:%d", de.File, de.Line, path, tt.line)
			}
			prefix := path + ": "
			if tt.line > 0 {
				prefix = path + ":" + strconv.Itoa(tt.line) + ": "
			}
			msg := de.Error()
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if de.Hint == "" || !strings.HasSuffix(msg, "; "+de.Hint) {
				t.Errorf("error %q has no hint", msg)
			}
		})
	}
}

func TestLoadDirCrossCheck(t *testing.T) {
	tests := []struct {
		dir  string
		want string
	}{
		{"dup_basepath", `dup_basepath/b.yaml:3: API level: base path "/same" is also the base path of dup_basepath/a.yaml; give each API its own x-wso2-basePath`},
		{"dup_route", `dup_route/b.yaml:7: GET /c: route GET /a/b/c is also served by GET /a/b/c in dup_route/a.yaml (line 7); each method and path may be served once`},
		{"dup_base_root", `dup_base_root/b.yaml:7: GET /: route GET /shop is also served by GET /shop in dup_base_root/a.yaml (line 7)`},
		{"dup_template", `dup_template/b.yaml:7: GET /{petId}: route GET /shop/pet/{petId} is also served by GET /shop/pet/{id} in dup_template/a.yaml (line 7)`},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			res, err := LoadDir(filepath.Join("testdata/defs", tt.dir))
			if err == nil {
				t.Fatalf("loaded %d APIs, want an error", len(res.APIs))
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n%s\ndoes not start with\n%s", err, tt.want)
			}
		})
	}
}

func TestLoadDirNoDefinitions(t *testing.T) {
	_, err := LoadDir("testdata/defs/empty")
	if err == nil {
		t.Fatal("want an error")
	}
	want := "empty/: no API definitions found (files ending in .yaml, .yml or .json); ignored: notes.txt; add an OpenAPI 3 or Swagger 2.0 definition there"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}

	dir := filepath.Join(t.TempDir(), "api_definitions")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A folder and a hidden file are not definitions.
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".swp.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadDir(dir)
	if err == nil || !strings.HasPrefix(err.Error(), "api_definitions/: no API definitions found (files ending in .yaml, .yml or .json); add") {
		t.Errorf("empty folder: %v", err)
	}

	_, err = LoadDir(filepath.Join(dir, "missing"))
	if err == nil || !strings.Contains(err.Error(), "read the API definitions folder") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
}

func TestLoadDirReportsEveryBadFile(t *testing.T) {
	_, err := LoadDir("testdata/defs/multi_bad")
	if err == nil {
		t.Fatal("want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "multi_bad/1_syntax.yaml:4: YAML/JSON syntax error") ||
		lines[1] != "warning: multi_bad/2_type.yaml: no x-wso2-basePath, and no path in servers[0] (basePath in Swagger 2.0): the API is served at /" ||
		!strings.HasPrefix(lines[2], `multi_bad/2_type.yaml:6: API level: unknown endpoint type "round_robin"`) ||
		lines[3] != "2 errors, 1 warning" {
		t.Errorf("error:\n%v", err)
	}
}

func TestLoadDirUnreadable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "api_definitions")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A dangling link cannot be read, even by root.
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "broken.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(dir)
	want := "api_definitions/broken.yaml: cannot read the file: no such file or directory; check that it exists and that you may read it\n1 error"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%v does not wrap os.ErrNotExist", err)
	}
}

// TestHostile loads a definition full of quotes, backticks, comment ends,
// template actions, newlines and Go statements, and expects every value back
// exactly as written.
func TestHostile(t *testing.T) {
	api, warnings, err := LoadFile("testdata/defs/hostile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ what, got, want string }{
		{"title", api.Title, "Evil \"title\" `backtick` */ {{ .Title }} \n\"); os.RemoveAll(\"/\") //"},
		{"version", api.Version, "1\"; os.Exit(1) // `*/ {{ . }}"},
		{"base path", api.BasePath, "/hostile/\"`*/');os.Exit(1)//x"},
		{"url 0", api.Production.URLs[0].URL, "https://backend.example.com/a\"b`c*/{{d}}"},
		{"url 1", api.Production.URLs[1].URL, "http://127.0.0.1:8080/\"+os.Args[0]+\"`*/{{.}}"},
		{"key 1", api.Production.URLs[1].EtcdKey, "k\"ey`*/{{.}}"},
		{"cors origin", api.CORS.AllowOrigins[0], "https://x.example.com\"`*/{{.}}"},
		{"cors header", api.CORS.AllowHeaders[0], "X-\"); os.RemoveAll(\"/\") //"},
		{"path 0", api.Resources[0].Path, "/*/`backtick`/'quote'/{id}"},
		{"operationId 0", api.Resources[0].OperationID, "`*/{{ .OperationID }}\n\"\\"},
		{"name 0", api.Resources[0].Production.Name, "evil\"`*{{name}}"},
		{"key 0", api.Resources[0].Production.URLs[0].EtcdKey, "\"; panic:1 // `*/ {{ .Key }}"},
		{"default 0", api.Resources[0].Production.URLs[0].URL, "https://etcd-default.example.com/\"`*/"},
		{"path 1", api.Resources[1].Path, "/x/\");os.RemoveAll(\"/\")//"},
		{"operationId 1", api.Resources[1].OperationID, "\"); os.RemoveAll(\"/\") //"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	wantWarnings(t, warnings, "testdata/defs/hostile.yaml:25: unknown extension x-wso2-\"`*/{{evil}} is ignored")
}

func TestParseNamesURL(t *testing.T) {
	data, err := os.ReadFile("testdata/defs/good/plain.json")
	if err != nil {
		t.Fatal(err)
	}
	api, _, err := Parse("https://example.com/specs/plain.json", data)
	if err != nil || api.File != "plain.json" {
		t.Fatalf("api %+v, err %v", api, err)
	}
	_, _, err = Parse("https://example.com/specs/bad.yaml", []byte("openapi: 3.0.3\ninfo: [\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "https://example.com/specs/bad.yaml:") {
		t.Errorf("error %v does not name the URL", err)
	}
}

func TestLoadDirEtcdDefaultConflict(t *testing.T) {
	res, err := LoadDir("testdata/defs/etcd_conflict")
	if err != nil {
		t.Fatal(err)
	}
	g := spec.Gateway{APIs: res.APIs}
	if defaults, _ := g.EtcdDefaults(); len(defaults) != 1 || defaults[0].URL != "http://one.example.com" {
		got := defaults
		t.Fatalf("runtime defaults = %v; the warning below must name the one it uses", got)
	}
	want := `etcd_conflict/a.yaml:11: etcd key "shared" has the default http://two.example.com here but http://one.example.com in etcd_conflict/a.yaml:6; while etcd holds no value for it, every place uses the first, http://one.example.com`
	if len(res.Warnings) != 1 || res.Warnings[0].String() != want {
		t.Errorf("warnings:\n%v\nwant one:\n%s", res.Warnings, want)
	}
}
