package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/AlecAivazis/survey/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/micro-gw/micro-gw/pkg/definition"
	"github.com/micro-gw/micro-gw/pkg/project"
)

// maxDefinitionSize bounds a definition downloaded by init -a URL.
const maxDefinitionSize = 16 << 20

type initCmd struct {
	s           streams
	definitions []string
	force       bool
}

func newInitCmd(s streams) *cobra.Command {
	ic := &initCmd{s: s}
	c := &cobra.Command{
		Use:   "init <project> [-a FILE|URL]... [-f]",
		Short: "Create a project folder with api_definitions/ and conf/",
		Long: `Create a project folder: api_definitions/ for OpenAPI 3.x or Swagger 2.0
definitions, conf/gateway.conf with the gateway's defaults, a .gitignore and a
README. Definitions given with -a are validated first and then copied in; an
invalid one stops init and leaves no folder behind.

In a terminal, init asks for the name when none is given.`,
		Example: `  micro-gw init petstore-project
  micro-gw init petstore-project -a petstore.yaml -a https://example.com/orders.json`,
		Args:              projectArg,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				if !isTerminal(ic.s.in) {
					return usageError{errors.New("init needs a project name: micro-gw init <project>")}
				}
				name, err := ic.ask()
				if err != nil {
					return err
				}
				args = []string{name}
			}
			return ic.run(c.Context(), args[0])
		},
	}
	c.Flags().StringArrayVarP(&ic.definitions, "api-definition", "a", nil, "OpenAPI/Swagger definition `FILE|URL` to copy into api_definitions/ (repeatable)")
	c.Flags().BoolVarP(&ic.force, "force", "f", false, "write the project files into an existing folder")
	_ = c.MarkFlagFilename("api-definition", "yaml", "yml", "json")
	return c
}

func (ic *initCmd) run(ctx context.Context, name string) error {
	if err := project.ValidateName(name); err != nil {
		return usageError{err}
	}
	var defs []project.Definition
	for _, src := range ic.definitions {
		d, err := fetchDefinition(ctx, src)
		if err != nil {
			return err
		}
		if _, _, err := definition.Parse(d.Name, d.Data); err != nil {
			return fmt.Errorf("%s is not a valid definition: %w", src, err)
		}
		defs = append(defs, d)
	}
	p, err := project.Create(".", name, project.CreateOptions{Force: ic.force, Definitions: defs})
	if err != nil {
		return err
	}
	fmt.Fprintf(ic.s.out, "Project '%s' is initialized successfully.\n", p.Name)
	if entries, _ := os.ReadDir(p.DefinitionsPath()); len(entries) == 0 {
		fmt.Fprintf(ic.s.out, "Add OpenAPI definitions to %s, then run: micro-gw build %s\n", filepath.Join(name, project.DefinitionsDir), name)
	} else {
		fmt.Fprintf(ic.s.out, "Next: micro-gw build %s\n", name)
	}
	return nil
}

// ask prompts for the project name and an optional definition.
func (ic *initCmd) ask() (string, error) {
	var answers struct {
		Name       string
		Definition string
	}
	qs := []*survey.Question{
		{Name: "name", Prompt: &survey.Input{Message: "Project name:"}, Validate: func(v any) error {
			return project.ValidateName(v.(string))
		}},
		{Name: "definition", Prompt: &survey.Input{Message: "API definition file or URL (optional):"}},
	}
	in, _ := ic.s.in.(*os.File)
	out, _ := ic.s.out.(*os.File)
	if err := survey.Ask(qs, &answers, survey.WithStdio(in, out, ic.s.err)); err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	if d := strings.TrimSpace(answers.Definition); d != "" {
		ic.definitions = append(ic.definitions, d)
	}
	return answers.Name, nil
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// fetchDefinition reads a definition from a file or an http(s) URL.
func fetchDefinition(ctx context.Context, src string) (project.Definition, error) {
	if u, err := url.Parse(src); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return download(ctx, u)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return project.Definition{}, fmt.Errorf("read definition %s: %w", src, errors.Unwrap(err))
	}
	name := filepath.Base(src)
	if !hasDefinitionExt(name) {
		return project.Definition{}, fmt.Errorf("definition %s: the file name must end in .yaml, .yml or .json so that build reads it", src)
	}
	return project.Definition{Name: name, Data: data}, nil
}

func download(ctx context.Context, u *url.URL) (project.Definition, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return project.Definition{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return project.Definition{}, fmt.Errorf("download definition %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return project.Definition{}, fmt.Errorf("download definition %s: the server answered %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDefinitionSize+1))
	if err != nil {
		return project.Definition{}, fmt.Errorf("download definition %s: %w", u, err)
	}
	if len(data) > maxDefinitionSize {
		return project.Definition{}, fmt.Errorf("download definition %s: larger than %d MB", u, maxDefinitionSize>>20)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || strings.HasPrefix(name, ".") {
		name = "api"
	}
	if !hasDefinitionExt(name) {
		if trimmed := strings.TrimSpace(string(data)); strings.HasPrefix(trimmed, "{") {
			name += ".json"
		} else {
			name += ".yaml"
		}
	}
	return project.Definition{Name: name, Data: data}, nil
}

func hasDefinitionExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}
