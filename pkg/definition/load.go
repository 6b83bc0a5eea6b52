package definition

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Result is what LoadDir found in a project's api_definitions/.
type Result struct {
	// APIs are in file name order; each API's Resources are sorted by path, then method.
	APIs     []spec.API
	Warnings []Warning
	// Resources counts the resources of all APIs.
	Resources int
	// tiers are the x-wso2-throttling-tier values of all APIs, for CheckTiers.
	tiers []tierUse
}

// definitionExts are the file name endings LoadDir reads.
var definitionExts = []string{".yaml", ".yml", ".json"}

// LoadDir reads every *.yaml, *.yml and *.json file in dir (a project's
// api_definitions/), in name order, and cross-checks them: no two APIs may
// share a base path or a route. Files whose names start with "." are skipped.
// When a definition cannot be built the error is a *Diagnostics holding
// every error and warning of every file.
func LoadDir(dir string) (*Result, error) { return LoadDirWith(dir, Options{}) }

// LoadDirWith is LoadDir with the build's options.
func LoadDirWith(dir string, opts Options) (*Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the API definitions folder: %w", err)
	}
	shown := filepath.Base(dir)
	var names, others []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if !isDefinitionFile(name) || e.IsDir() {
			if !e.IsDir() {
				others = append(others, name)
			}
			continue
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		msg := "no API definitions found (files ending in .yaml, .yml or .json)"
		if len(others) > 0 {
			msg += "; ignored: " + strings.Join(others, ", ")
		}
		return nil, &Error{
			File: shown + "/",
			Msg:  msg,
			Hint: "add an OpenAPI 3 or Swagger 2.0 definition there (micro-gw init -a <file|URL> copies one in)",
		}
	}

	var defs []*loadedAPI
	diag := &Diagnostics{}
	for _, name := range names {
		file := path.Join(shown, name)
		d, err := loadFile(filepath.Join(dir, name), file, opts)
		diag.add(file, err)
		if d != nil && d.routable {
			// A definition with errors elsewhere still takes part in the
			// cross-check, so that its conflicts are reported in this round.
			defs = append(defs, d)
		}
	}
	if cc := crossCheck(defs); cc != nil {
		diag.add("", cc)
	} else if len(diag.Errors) == 0 && len(defs) > 1 {
		// Each file's own table was checked as it loaded; this is the
		// safety net for what two files together break.
		if err := checkRouteTable(defs); err != nil {
			diag.add("", err)
		}
	}
	res := &Result{}
	for _, d := range defs {
		if d.failed {
			continue
		}
		res.APIs = append(res.APIs, d.api)
		diag.Warnings = append(diag.Warnings, d.warnings...)
		res.Resources += len(d.api.Resources)
		res.tiers = append(res.tiers, d.tiers...)
	}
	diag.Warnings = append(diag.Warnings, etcdDefaultConflicts(defs)...)
	if len(diag.Errors) > 0 {
		return nil, diag
	}
	sortWarnings(diag.Warnings)
	res.Warnings = diag.Warnings
	return res, nil
}

func isDefinitionFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range definitionExts {
		if ext == e {
			return true
		}
	}
	return false
}

// LoadFile reads and checks one definition file; errors name it as path.
func LoadFile(path string) (*spec.API, []Warning, error) {
	d, err := loadFile(path, path, Options{})
	if err != nil {
		return nil, nil, err
	}
	return &d.api, d.warnings, nil
}

// Parse checks one definition held in memory; name (a file name
// or a URL) is used in messages and, by its last element, as the API's File.
func Parse(name string, data []byte) (*spec.API, []Warning, error) {
	d, err := loadBytes(name, path.Base(name), data, Options{})
	if err != nil {
		return nil, nil, err
	}
	return &d.api, d.warnings, nil
}

func loadFile(file, shown string, opts Options) (*loadedAPI, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		cause := err
		var pe *os.PathError
		if errors.As(err, &pe) {
			cause = pe.Err
		}
		return nil, &Diagnostics{Errors: []*Error{{
			File: shown,
			Msg:  "cannot read the file: " + cause.Error(),
			Hint: "check that it exists and that you may read it",
			Err:  err,
		}}}
	}
	return loadBytes(shown, filepath.Base(file), data, opts)
}
