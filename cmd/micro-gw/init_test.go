package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitFromURL downloads definitions over http from a loopback server.
func TestInitFromURL(t *testing.T) {
	def, err := os.ReadFile("../../examples/petstore-project/api_definitions/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/specs/petstore.yaml", "/openapi":
			w.Write(def)
		case "/garbage.yaml":
			w.Write([]byte("just: [a, list]\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Chdir(t.TempDir())

	cases := []struct {
		name, url, wantFile, wantErr string
	}{
		{"named", srv.URL + "/specs/petstore.yaml", "petstore.yaml", ""},
		{"unnamed", srv.URL + "/openapi", "openapi.yaml", ""},
		{"missing", srv.URL + "/nothing.yaml", "", "the server answered 404 Not Found"},
		{"invalid", srv.URL + "/garbage.yaml", "", "garbage.yaml: not an OpenAPI or Swagger definition: there is no top-level openapi or swagger field; an API definition starts with \"openapi: 3.0.3\" (or 3.1.x), or \"swagger: \\\"2.0\\\"\", followed by info and paths\nmicro-gw: " + srv.URL + "/garbage.yaml is not a valid definition: 1 error\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run([]string{"init", c.name, "-a", c.url}, strings.NewReader(""), &out, &errOut)
			if c.wantErr != "" {
				if code != exitFailure || !strings.Contains(errOut.String(), c.wantErr) {
					t.Fatalf("exit %d, stderr %q; want exit 1 and %q", code, errOut.String(), c.wantErr)
				}
				if _, err := os.Stat(c.name); !os.IsNotExist(err) {
					t.Fatalf("a failed init left %s behind", c.name)
				}
				return
			}
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			got, err := os.ReadFile(filepath.Join(c.name, "api_definitions", c.wantFile))
			if err != nil || !bytes.Equal(got, def) {
				t.Fatalf("definition not copied as %s: %v", c.wantFile, err)
			}
		})
	}
}
