// Command gendocs writes the files that copy package settings: the settings
// table of README.md, between its two marker comments, and the example
// project's conf/gateway.conf, which is the template micro-gw init writes.
// Its tests fail while either is stale. Run it from the repository root:
//
//	go generate .
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"github.com/micro-gw/micro-gw/pkg/project"
)

// The generated files, relative to the repository root.
const (
	readmeFile  = "README.md"
	exampleConf = "examples/petstore-project/conf/gateway.conf"
)

// The comments around the generated table in README.md.
const (
	tableStart = "<!-- settings table: generated from pkg/gateway/settings by go generate; do not edit -->\n"
	tableEnd   = "<!-- end of settings table -->\n"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gendocs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", ".", "the repository root")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, f := range files {
		if err := update(*root, f); err != nil {
			fmt.Fprintf(stderr, "gendocs: %v\n", err)
			return 1
		}
	}
	return 0
}

// file is one generated file: its path relative to the repository root and
// the function that makes its content from its current one.
type file struct {
	path string
	make func(old []byte) ([]byte, error)
}

var files = []file{
	{readmeFile, func(old []byte) ([]byte, error) { return spliceTable(old, settingsTable()) }},
	{exampleConf, func([]byte) ([]byte, error) { return []byte(project.ConfTemplate()), nil }},
}

// generate returns the current and the generated content of f.
func generate(root string, f file) (old, gen []byte, err error) {
	old, err = os.ReadFile(filepath.Join(root, filepath.FromSlash(f.path)))
	if err != nil {
		return nil, nil, err
	}
	if gen, err = f.make(old); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.path, err)
	}
	return old, gen, nil
}

// update writes f if its content changed.
func update(root string, f file) error {
	old, gen, err := generate(root, f)
	if err != nil || bytes.Equal(old, gen) {
		return err
	}
	return os.WriteFile(filepath.Join(root, filepath.FromSlash(f.path)), gen, 0o644)
}

// spliceTable replaces what lies between the marker comments of readme
// with table.
func spliceTable(readme []byte, table string) ([]byte, error) {
	s := string(readme)
	i := strings.Index(s, tableStart)
	j := strings.Index(s, tableEnd)
	if i < 0 || j < i {
		return nil, fmt.Errorf("no settings table: put the lines %q and %q where it goes", strings.TrimSpace(tableStart), strings.TrimSpace(tableEnd))
	}
	i += len(tableStart)
	return []byte(s[:i] + table + s[j:]), nil
}

// settingsTable renders, in Markdown, every setting the gateway reads, in
// the order of package settings. Build settings are documented with
// micro-gw build.
func settingsTable() string {
	var b strings.Builder
	b.WriteString("| flag | type | default | set in | |\n|---|---|---|---|---|\n")
	for _, s := range settings.All() {
		if !s.In(settings.Flag) {
			continue
		}
		typ := s.Type.String()
		if s.Type == settings.Enum {
			typ = strings.Join(s.Values, ", ")
		}
		fmt.Fprintf(&b, "| `--%s` | %s | %s | %s | %s |\n", s.Name, typ, cell(s.Default), s.Where, cell(s.Help))
	}
	return b.String()
}

// cell escapes the pipes of a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
