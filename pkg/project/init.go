package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"github.com/micro-gw/micro-gw/pkg/policy"
)

// Definition is an API definition to place in api_definitions/.
type Definition struct {
	// Name is the file name to write (no directories).
	Name string
	Data []byte
}

// CreateOptions controls Create.
type CreateOptions struct {
	// Force allows writing into an existing folder: the scaffold files are
	// rewritten and the definitions added; other files stay.
	Force       bool
	Definitions []Definition
}

// Create makes project name inside parent. Without Force an existing path
// is an error. A new project is assembled in a temporary folder and renamed
// into place, so a failure leaves nothing behind.
func Create(parent, name string, opts CreateOptions) (*Project, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, d := range opts.Definitions {
		if d.Name == "" || d.Name != filepath.Base(d.Name) || strings.HasPrefix(d.Name, ".") {
			return nil, fmt.Errorf("definition file name %q is not a plain file name", d.Name)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("two definitions would both be written as %s; rename one", d.Name)
		}
		seen[d.Name] = true
	}
	dir := filepath.Join(parent, name)
	_, err := os.Lstat(dir)
	switch {
	case err == nil && !opts.Force:
		return nil, fmt.Errorf("%s already exists; choose another name, or pass --force to write the project files into it", dir)
	case err == nil:
		if err := scaffold(dir, name, opts.Definitions); err != nil {
			return nil, err
		}
	case errors.Is(err, os.ErrNotExist):
		tmp, err := os.MkdirTemp(parent, "."+name+".init-")
		if err != nil {
			return nil, fmt.Errorf("create project folder in %s: %w", parent, err)
		}
		if err := scaffold(tmp, name, opts.Definitions); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
		if err := os.Chmod(tmp, 0o755); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
		if err := os.Rename(tmp, dir); err != nil {
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	default:
		return nil, fmt.Errorf("check %s: %w", dir, err)
	}
	return Open(dir)
}

func scaffold(dir, name string, defs []Definition) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s exists and is a file, not a folder; remove it or choose another name", dir)
	}
	for _, d := range []string{DefinitionsDir, ConfDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	files := map[string][]byte{
		filepath.Join(ConfDir, ConfFile): []byte(ConfTemplate()),
		".gitignore":                     []byte("# build output of micro-gw build\n/" + TargetDir + "/\n"),
		"README.md":                      []byte(readme(name)),
	}
	// The policies are the user's once written: --force keeps them.
	if _, err := os.Stat(filepath.Join(dir, policy.File)); err != nil {
		files[policy.File] = []byte(policy.Template())
	}
	for _, d := range defs {
		files[filepath.Join(DefinitionsDir, d.Name)] = d.Data
	}
	for rel, data := range files {
		if err := os.WriteFile(filepath.Join(dir, rel), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
	}
	return nil
}

// readme is the README.md that init writes, its ports and values those of
// package settings.
func readme(name string) string {
	def := func(setting string) string { return settings.Named(setting).Default }
	return "# " + name + `

A micro-gw project. Put OpenAPI 3.x or Swagger 2.0 definitions (YAML or JSON)
in ` + "`api_definitions/`" + `; gateway defaults live in ` + "`conf/gateway.conf`" + `,
throttling policies (named by x-wso2-throttling-tier) in ` + "`" + policy.File + "`" + `.

Build one self-contained executable (needs Go on the build machine only):

    micro-gw build ` + name + `

Run it (HTTP ` + def("http-port") + `, HTTPS ` + def("https-port") + `, admin ` + def("admin-bind") + `:` + def("admin-port") + `):

    ./` + name + `/target/` + name + ` --etcdurl=` + settings.Named("etcdurl").Sample() + ` --etcdtimer=` + def("etcdtimer") + ` \
        --jwt-issuer=` + settings.Named("jwt-issuer").Sample() + ` --jwt-jwks-url=` + settings.Named("jwt-jwks-url").Sample() + `

As in micro-gw 3.x, every API requires an OAuth2 bearer token (a JWT from
the issuer above) unless its definition says ` + "`x-wso2-disable-security: true`" + `;
` + "`micro-gw build`" + ` prints what each API requires.

Endpoints written as ` + "`etcd(<key>, <default_URL>)`" + ` follow the URL stored under
` + "`<key>`" + ` in etcd; try it locally with ` + "`micro-gw dev " + name + "`" + `.
`
}
