package settings

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTableIsWellFormed guards the one line a new setting costs: every
// mistake that would otherwise show up as a broken flag, template or README
// fails here, naming the setting.
func TestTableIsWellFormed(t *testing.T) {
	for _, msg := range tableProblems(table) {
		t.Error(msg)
	}
}

// TestTableProblemsAreFound shows that the check above can fail: each
// broken line is reported.
func TestTableProblemsAreFound(t *testing.T) {
	good := Setting{Name: "x", Group: Limits, Where: Gateway, Type: Int, Default: "1", Help: "h"}
	for _, tt := range []struct {
		name string
		edit func(*Setting)
		want string
	}{
		{"bad name", func(s *Setting) { s.Name = "Rate_Limit" }, "not lower-case"},
		{"no type", func(s *Setting) { s.Type = 0 }, "no type"},
		{"bad int default", func(s *Setting) { s.Default = "60s" }, `default: x = "60s"; write a whole number`},
		{"bad duration default", func(s *Setting) { s.Type, s.Default = Duration, "60" }, "write a duration"},
		{"bad float default", func(s *Setting) { s.Type, s.Default = Float, "half" }, "write a number"},
		{"enum without values", func(s *Setting) { s.Type, s.Default = Enum, "a" }, "Values"},
		{"values on an int", func(s *Setting) { s.Values = []string{"1"} }, "Values"},
		{"example of an int", func(s *Setting) { s.Example = "2" }, "Example"},
		{"no help", func(s *Setting) { s.Help = "" }, "no help"},
		{"nowhere", func(s *Setting) { s.Where = 0 }, "nothing may set it"},
		{"no group", func(s *Setting) { s.Group = 0 }, "no group"},
		{"group without a comment", func(s *Setting) { s.Group = Command }, "no comment for the conf template"},
		{"env only without reason", func(s *Setting) { s.Where = Env }, "NoConf"},
		{"reason but in conf", func(s *Setting) { s.NoConf = "why" }, "NoConf"},
		{"build setting as a flag", func(s *Setting) { s.Where = Build | Flag }, "Build"},
	} {
		s := good
		tt.edit(&s)
		got := strings.Join(tableProblems([]Setting{s}), "\n")
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want one containing %q", tt.name, got, tt.want)
		}
	}
	split := []Setting{good, good, good}
	split[1].Name, split[1].Group = "y", Logs
	split[2].Name = "z"
	if got := strings.Join(tableProblems(split), "\n"); !strings.Contains(got, "z: group") {
		t.Errorf("a group split by another: problems %q", got)
	}
	twice := []Setting{good, good}
	if got := strings.Join(tableProblems(twice), "\n"); !strings.Contains(got, "twice") {
		t.Errorf("a name twice: problems %q", got)
	}
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// tableProblems lists what is wrong with the lines of t.
func tableProblems(t []Setting) []string {
	var out []string
	bad := func(s Setting, format string, args ...any) {
		out = append(out, s.Name+": "+fmt.Sprintf(format, args...))
	}
	seen := map[string]bool{}
	done := map[Group]bool{}
	for i, s := range t {
		if seen[s.Name] {
			bad(s, "named twice")
		}
		seen[s.Name] = true
		if !nameRE.MatchString(s.Name) {
			bad(s, "name is not lower-case letters, digits and '-'")
		}
		if s.Type < Int || s.Type > Float {
			bad(s, "no type")
		}
		if (s.Type == Enum) != (len(s.Values) > 0) {
			bad(s, "Values go with an Enum, and an Enum needs them")
		}
		if s.Default != "" || s.Type != String {
			if err := s.Check(s.Default); err != nil {
				bad(s, "default: %v", err)
			}
		}
		if s.Example != "" && (s.Type != String || s.Default != "") {
			bad(s, "an Example is for a String setting without a default")
		}
		if s.Help == "" || strings.Contains(s.Help, "\n") {
			bad(s, "no help, or help on several lines")
		}
		if s.Where == 0 {
			bad(s, "nothing may set it")
		}
		gatewayNotConf := !s.In(Conf) && (s.In(Env) || s.In(Flag))
		if gatewayNotConf != (s.NoConf != "") {
			bad(s, "NoConf is for, and needed by, a setting the gateway reads that conf/gateway.conf may not hold")
		}
		if s.In(Build) != (s.Where == Conf|Build && s.Group == Building) {
			bad(s, "a Build setting is set in conf only (Where: Conf | Build) and in the Building group")
		}
		if s.Group == 0 {
			bad(s, "no group")
		}
		if s.In(Conf) && len(s.Group.Comment()) == 0 {
			bad(s, "group %d has no comment for the conf template", s.Group)
		}
		if i > 0 && t[i-1].Group != s.Group {
			if done[s.Group] {
				bad(s, "group %d was left earlier: keep a group's settings together", s.Group)
			}
			done[t[i-1].Group] = true
		}
	}
	return out
}

func TestDefaults(t *testing.T) {
	if got := Named("backend-timeout").DefaultDuration(); got != 60*time.Second {
		t.Errorf("backend-timeout default %v, want 60s", got)
	}
	if got := Named("max-header-bytes").DefaultInt(); got != 16<<10 {
		t.Errorf("max-header-bytes default %d, want 16384", got)
	}
	if Named("access-log").DefaultBool() {
		t.Error("access-log is on by default")
	}
	for _, f := range []func(){
		func() { Named("nope") },
		func() { Named("backend-timeout").DefaultInt() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic for a programming error")
				}
			}()
			f()
		}()
	}
}

func TestNames(t *testing.T) {
	conf := Names(Conf)
	if !slices.IsSorted(conf) || !slices.Contains(conf, "strict") || !slices.Contains(conf, "http-port") {
		t.Errorf("Names(Conf) = %v", conf)
	}
	for _, never := range []string{"etcdpassword", "version"} {
		if slices.Contains(conf, never) {
			t.Errorf("Names(Conf) holds %s", never)
		}
	}
	if env := Names(Env); slices.Contains(env, "version") || !slices.Contains(env, "etcdpassword") {
		t.Errorf("Names(Env) = %v", env)
	}
	if flags := Names(Flag); slices.Contains(flags, "strict") || !slices.Contains(flags, "version") {
		t.Errorf("Names(Flag) = %v", flags)
	}
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct{ name, v, err string }{
		{"strict", "true", ""},
		{"strict", "yes", `strict = "yes"; write strict = true or strict = false`},
		{"strict", "TRUE", `write strict = true or strict = false`},
		{"http-port", "ninety", `http-port = "ninety"; write a whole number`},
		{"backend-timeout", "60", "write a duration such as 60s"},
		{"escaped-slashes", "decode", `escaped-slashes = "decode"; write reject or keep`},
		{"escaped-slashes", "keep", ""},
		{"bind", "anything", ""},
	} {
		err := Named(tt.name).Check(tt.v)
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Check(%s = %q) = %v, want %q", tt.name, tt.v, err, tt.err)
		}
	}
}

func TestWhereString(t *testing.T) {
	if got := Gateway.String(); got != "conf, env, flag" {
		t.Errorf("Gateway = %q", got)
	}
	if got := (Conf | Build).String(); got != "conf, build" {
		t.Errorf("Conf|Build = %q", got)
	}
}
