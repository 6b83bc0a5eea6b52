package gateway

import (
	"io"
	"strings"
	"testing"
)

// TestEscapedSlashesFlag: --escaped-slashes is reject by default, keep
// turns the proxy option on, and any other value is an error naming the
// flag and the choices.
func TestEscapedSlashesFlag(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	for _, tt := range []struct {
		args []string
		keep bool
		err  string
	}{
		{nil, false, ""},
		{[]string{"--escaped-slashes=reject"}, false, ""},
		{[]string{"--escaped-slashes=keep"}, true, ""},
		{[]string{"--escaped-slashes=decode"}, false, `--escaped-slashes="decode": use reject or keep`},
	} {
		c, err := ParseConfig(nil, tt.args, noEnv, io.Discard)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || c.Proxy.KeepEscapedSlashes != tt.keep {
			t.Errorf("%v: KeepEscapedSlashes %v, error %v; want %v", tt.args, c.Proxy.KeepEscapedSlashes, err, tt.keep)
		}
	}
}
