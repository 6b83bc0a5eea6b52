// Package project creates and opens micro-gw project folders.
//
// A project is a folder named after the project holding api_definitions/
// (the OpenAPI and Swagger files), conf/ (the gateway's settings),
// policies.yaml (throttling policies, package policy; optional) and, after
// a build, target/ (generated sources and the executable).
package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// Folder names inside a project.
const (
	DefinitionsDir = "api_definitions"
	ConfDir        = "conf"
	TargetDir      = "target"
	GenDir         = "gen"
	ConfFile       = "gateway.conf"
)

// MaxNameLen bounds a project name; it becomes a folder and a file name.
const MaxNameLen = 100

// ValidateName reports why name cannot be a single safe folder and file name.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("project name is empty; give a name such as petstore-project")
	case name == "." || name == "..":
		return fmt.Errorf("project name %q is a path, not a name; give a name such as petstore-project", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("project name %q contains a path separator; give a plain name and run the command from the parent folder", name)
	case len(name) > MaxNameLen:
		return fmt.Errorf("project name is %d characters long; use at most %d", len(name), MaxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("project name %q contains a control character; use letters, digits, '-', '_' or '.'", name)
		}
	}
	return nil
}

// Project is an existing project folder.
type Project struct {
	// Dir is the project folder; Name is its base name.
	Dir, Name string
}

// Open checks that dir looks like a project and returns it.
func Open(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", dir, err)
	}
	name := filepath.Base(abs)
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("project %s does not exist; create it with: micro-gw init %s", dir, name)
		}
		return nil, fmt.Errorf("project %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("project %s is a file, not a project folder", dir)
	}
	defs := filepath.Join(abs, DefinitionsDir)
	if fi, err := os.Stat(defs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s has no %s/ folder; is it a micro-gw project? create one with: micro-gw init %s", dir, DefinitionsDir, name)
	}
	return &Project{Dir: abs, Name: name}, nil
}

// DefinitionsPath is the project's api_definitions/ folder.
func (p *Project) DefinitionsPath() string { return filepath.Join(p.Dir, DefinitionsDir) }

// TargetPath is the project's target/ folder.
func (p *Project) TargetPath() string { return filepath.Join(p.Dir, TargetDir) }

// GenPath is where generated sources go.
func (p *Project) GenPath() string { return filepath.Join(p.Dir, TargetDir, GenDir) }

// ExecutablePath is the gateway the build produces.
func (p *Project) ExecutablePath() string { return filepath.Join(p.Dir, TargetDir, p.Name) }
