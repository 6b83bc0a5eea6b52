package main

import (
	"io"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
)

// TestConfSettingsAreRuntimeFlags keeps conf/gateway.conf's names in step
// with the runtime's flags: each one is accepted with its default value.
func TestConfSettingsAreRuntimeFlags(t *testing.T) {
	samples := map[string]string{"http-port": "1", "https-port": "0", "admin-port": "0", "access-log": "true",
		"shutdown-timeout": "1s", "backend-timeout": "1s", "backend-idle-timeout": "1s", "client-idle-timeout": "1s", "client-read-timeout": "1s", "client-write-timeout": "1s",
		"max-header-bytes": "8192", "max-conns-per-host": "10", "max-connections": "100", "escaped-slashes": "keep", "etcdtimer": "1000", "log-format": "json", "log-level": "debug"}
	noEnv := func(string) (string, bool) { return "", false }
	for _, name := range settings.Names(settings.Conf | settings.Flag) {
		v, ok := samples[name]
		if !ok {
			v = settings.Named(name).Default
		}
		if _, err := gateway.ParseConfig(map[string]string{name: v}, nil, noEnv, io.Discard); err != nil {
			t.Errorf("conf setting %s=%q: %v", name, v, err)
		}
	}
}
