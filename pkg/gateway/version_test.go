package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// TestVersionCannotForgeLines protects --version from a definition whose
// title or version holds a newline or another control character: each API
// stays on one line, so a title cannot forge a line of output (a fake API,
// a fake project name) for whoever reads it.
func TestVersionCannotForgeLines(t *testing.T) {
	g := routesFor("http://127.0.0.1:1")
	g.APIs[0].Title = "Petstore\nFAKE line"
	g.APIs[0].Version = "1.0.0\r\x1b[2K"
	g.APIs = append(g.APIs, spec.API{Title: "Café ☕", Version: "2.0", BasePath: "/cafe"})
	routes, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main(Program{Project: "shop\nproject: forged", MicroGWVersion: "0.1.0", Routes: routes}, []string{"--version"}, &out, &errb); code != 0 {
		t.Fatalf("--version: exit %d, stderr %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		`micro-gw 0.1.0`,
		`project: "shop\nproject: forged"`,
		`APIs (2):`,
		`  "Petstore\nFAKE line" "1.0.0\r\x1b[2K"  /petstore/v1  (1 resources)`,
		`  Café ☕ 2.0  /cafe  (0 resources)`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("--version printed %d lines:\n%s\nwant %d:\n%s", len(lines), out.String(), len(want), strings.Join(want, "\n"))
	}
	if strings.ContainsAny(out.String(), "\r\x1b") {
		t.Errorf("--version output holds a raw control character: %q", out.String())
	}
}
