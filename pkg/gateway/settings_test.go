package gateway

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
)

// TestCompiledConfRefusesFlagOnlySettings: the settings compiled into the
// executable (conf/gateway.conf) may not hold what only a flag or the
// environment may set. An etcd password there would sit in the binary, and
// version = true would make every start print the report instead of
// serving.
func TestCompiledConfRefusesFlagOnlySettings(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"etcdpassword", "conf/gateway.conf setting etcdpassword may not be stored in the project: it would be compiled into the executable; pass --etcdpassword-file"},
		{"version", "conf/gateway.conf setting version may not be stored in the project: "},
	} {
		_, err := ParseConfig(map[string]string{tt.name: "true"}, nil, noEnvLookup, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("conf %s = true: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestTableSamplesAreAccepted: every value the conf template shows (the
// table's sample of each setting) is one the gateway accepts, and reaches
// the Config.
func TestTableSamplesAreAccepted(t *testing.T) {
	conf := map[string]string{}
	for _, s := range settings.All() {
		if s.In(settings.Conf) && s.In(settings.Flag) {
			conf[s.Name] = s.Sample()
		}
	}
	c, err := ParseConfig(conf, nil, noEnvLookup, io.Discard)
	if err != nil {
		t.Fatalf("the conf template's values, uncommented: %v", err)
	}
	if c.TLSCert != "/etc/micro-gw/tls.crt" || len(c.Discovery.Endpoints) != 1 || c.Proxy.Timeout != settings.Named("backend-timeout").DefaultDuration() {
		t.Errorf("samples did not reach the Config: %+v", c)
	}
}

// TestUsageListsEveryFlagSetting: --help shows each setting a flag may set,
// with its help, says which flags the environment does not set, and shows
// no build setting.
func TestUsageListsEveryFlagSetting(t *testing.T) {
	var out bytes.Buffer
	if _, err := ParseConfig(nil, []string{"-h"}, noEnvLookup, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	usage := out.String()
	for _, s := range settings.All() {
		shown := strings.Contains(usage, "  -"+s.Name+" ") || strings.Contains(usage, "  -"+s.Name+"\n")
		if s.In(settings.Flag) && (!shown || !strings.Contains(usage, s.Help)) {
			t.Errorf("usage lacks --%s or its help", s.Name)
		}
		if !s.In(settings.Flag) && shown {
			t.Errorf("usage shows --%s, which is not a gateway flag", s.Name)
		}
	}
	if !strings.Contains(usage, "Every flag but --version can also be set by an environment variable") {
		t.Errorf("usage does not say that --version is not read from the environment:\n%s", usage)
	}
}

func noEnvLookup(string) (string, bool) { return "", false }
