package codegen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"text/template"

	microgw "github.com/micro-gw/micro-gw"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// MainPackage is the generated program's package directory inside the build module.
const MainPackage = "cmd/gateway"

// templates are parsed once, with the one FuncMap every template shares.
var templates = template.Must(template.New("").Funcs(template.FuncMap{
	// quote is the only way a value reaches Go source: a Go string literal.
	"quote": strconv.Quote,
	// comment puts our own version text in a comment; anything that could
	// end the comment or the line is refused at generation time.
	"comment": func(s string) (string, error) {
		if strings.ContainsAny(s, "\r\n") || strings.Contains(s, "*/") {
			return "", fmt.Errorf("%q cannot appear in a comment", s)
		}
		return s, nil
	},
}).ParseFS(microgw.Templates, "templates/*.tmpl"))

// Generated returns the sources generated from g, keyed by slash path inside
// the build module: the gateway's main package and its embedded route table.
// It is a pure function of g; writing files is the caller's business.
func Generated(g *spec.Gateway) (map[string][]byte, error) {
	routes, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode route table: %w", err)
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, "main.go.tmpl", g); err != nil {
		return nil, fmt.Errorf("render main.go: %w", err)
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("generated main.go does not parse (%v); this is a micro-gw bug, the raw text follows:\n%s", err, buf.Bytes())
	}
	return map[string][]byte{
		path.Join(MainPackage, "main.go"):     src,
		path.Join(MainPackage, "routes.json"): append(routes, '\n'),
	}, nil
}

// ModuleFiles returns the files the generated program compiles against: the
// micro-gw go.mod and go.sum, exactly as micro-gw was built and tested with,
// and the runtime source, all embedded in this binary. Tests and test data
// are left out.
func ModuleFiles() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(microgw.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := fs.ReadFile(microgw.Source, p)
		if err != nil {
			return err
		}
		out[p] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded runtime source: %w", err)
	}
	return out, nil
}
