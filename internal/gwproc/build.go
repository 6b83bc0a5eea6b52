package gwproc

import (
	"context"

	microgw "github.com/micro-gw/micro-gw"
	"github.com/micro-gw/micro-gw/pkg/codegen"
	"github.com/micro-gw/micro-gw/pkg/definition"
	"github.com/micro-gw/micro-gw/pkg/project"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Build compiles project p's definitions into its executable, as micro-gw
// build does without reading conf/gateway.conf (tests pass flags instead)
// and without printing, and returns the executable's path.
func Build(ctx context.Context, p *project.Project) (string, error) {
	defs, err := definition.LoadDir(p.DefinitionsPath())
	if err != nil {
		return "", err
	}
	g := &spec.Gateway{Project: p.Name, Version: microgw.Version, APIs: defs.APIs}
	res, err := codegen.Compile(ctx, codegen.Input{Gateway: g, GenDir: p.GenPath(), Exe: p.ExecutablePath()}, codegen.Options{})
	if err != nil {
		return "", err
	}
	return res.Executable, nil
}
