package project

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"github.com/micro-gw/micro-gw/pkg/policy"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// SplitSettings separates the build settings of a parsed conf/gateway.conf
// (settings.Build, read by micro-gw build itself) from the gateway
// settings, which become the executable's defaults.
func SplitSettings(all map[string]string) (build, gateway map[string]string) {
	build, gateway = map[string]string{}, map[string]string{}
	for k, v := range all {
		if s, ok := settings.Lookup(k); ok && s.In(settings.Build) {
			build[k] = v
		} else {
			gateway[k] = v
		}
	}
	return build, gateway
}

// confHeader opens the conf template.
const confHeader = `# micro-gw gateway settings.
#
# "micro-gw build" compiles these values into the executable as its defaults.
# At run time an environment variable (same name, or with '-' as '_', or in
# UPPER_CASE) overrides a value here, and a command-line flag
# (--name=value) overrides both. Lines are "name = value"; '#' starts a comment.
`

// ConfTemplate returns the commented conf/gateway.conf that init writes:
// every setting conf/gateway.conf may hold, commented out with its default
// (or a sample), under the comment of its group. Package settings is its
// source; the example project's conf/gateway.conf is a copy (go generate).
func ConfTemplate() string {
	var b strings.Builder
	b.WriteString(confHeader)
	var group settings.Group
	for _, s := range settings.All() {
		if !s.In(settings.Conf) {
			continue
		}
		if s.Group != group {
			group = s.Group
			b.WriteString("\n")
			for _, line := range group.Comment() {
				b.WriteString("# " + line + "\n")
			}
		}
		b.WriteString(strings.TrimSpace("# "+s.Name+" = "+s.Sample()) + "\n")
	}
	return b.String()
}

// ReadConf reads conf/gateway.conf of the project. A missing file means no
// settings. Unknown names and malformed lines are errors naming the line.
func (p *Project) ReadConf() (map[string]string, error) {
	path := filepath.Join(p.Dir, ConfDir, ConfFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	rel := filepath.Join(ConfDir, ConfFile)
	return ParseConf(rel, data)
}

// ParseConf parses "name = value" lines; name is the file name used in errors.
func ParseConf(name string, data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: %q is not a setting; write name = value", name, n, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if err := checkConf(k, v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s:%d: %s is set twice; keep one", name, n, k)
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// checkConf refuses a setting conf/gateway.conf may not hold: a name not in
// package settings, one only the gateway's flags or environment set, or a
// build setting's value of the wrong type. The values of gateway settings
// are checked by the gateway's own ParseConfig at build time.
func checkConf(k, v string) error {
	s, ok := settings.Lookup(k)
	switch {
	case !ok:
		return fmt.Errorf("unknown setting %q; known settings: %s", k, strings.Join(settings.Names(settings.Conf), ", "))
	case !s.In(settings.Conf):
		return fmt.Errorf("%s may not be stored in the project: %s", k, s.NoConf)
	case s.In(settings.Build):
		return s.Check(v)
	}
	return nil
}

// ReadPolicies reads the project's policies.yaml; a project without one
// gets micro-gw 3.x's default policies (policy.Defaults). Errors name the
// file and line.
func (p *Project) ReadPolicies() (*spec.Policies, error) {
	return policy.Load(p.Dir)
}
