package project

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Settings lists the runtime flags conf/gateway.conf may set, with a short
// description each. The build bakes them into the executable as defaults;
// environment variables and flags given at run time override them. The etcd
// password is deliberately absent: it never belongs in a file that is
// compiled into a binary.
var Settings = map[string]string{
	"http-port":            "HTTP listener port (0 disables)",
	"https-port":           "HTTPS listener port (0 disables)",
	"bind":                 "address the HTTP and HTTPS listeners bind to (empty: all interfaces)",
	"tls-cert":             "PEM certificate for HTTPS (empty: self-signed, generated at start)",
	"tls-key":              "PEM private key for HTTPS",
	"admin-port":           "read-only admin listener with /status (0 disables)",
	"admin-bind":           "address the admin listener binds to",
	"log-format":           "text or json",
	"log-level":            "debug, info, warn or error",
	"access-log":           "true to log one line per request",
	"shutdown-timeout":     "how long in-flight requests may take to finish on SIGTERM, e.g. 15s",
	"backend-timeout":      "default timeout for a backend call, e.g. 60s",
	"max-header-bytes":     "largest request line plus headers accepted (larger gets 431)",
	"max-conns-per-host":   "most connections open to one backend host:port",
	"max-connections":      "most client connections open at once (0: derived from the open-files limit)",
	"escaped-slashes":      "reject (400) or keep a path holding %2F or %5C; keep lets a backend that decodes them see other paths",
	"backend-idle-timeout": "close pooled backend connections idle this long",
	"client-idle-timeout":  "close keep-alive client connections idle this long",
	"client-read-timeout":  "longest time to read one whole request from a client",
	"client-write-timeout": "longest time to write one whole response to a client",
	"etcdpassword-file":    "file holding the etcd password",
	"etcdurl":              "etcd member URLs, comma-separated",
	"etcdtimer":            "periodic etcd re-read in milliseconds",
	"etcdusername":         "etcd user",
	"etcdcacert":           "CA bundle for https etcd members",
	"etcdcert":             "client certificate for etcd",
	"etcdkey":              "client key for etcd",
}

// BuildSettings lists the settings conf/gateway.conf may hold for micro-gw
// build itself. They change how the project is built and are not compiled
// into the executable (the gateway has no such flags).
var BuildSettings = map[string]string{
	"strict": "true to refuse definitions with warnings too, as micro-gw build --strict does",
}

// SplitSettings separates the build settings of a parsed conf/gateway.conf
// from the gateway settings, which become the executable's defaults.
func SplitSettings(all map[string]string) (build, gateway map[string]string) {
	build, gateway = map[string]string{}, map[string]string{}
	for k, v := range all {
		if _, ok := BuildSettings[k]; ok {
			build[k] = v
		} else {
			gateway[k] = v
		}
	}
	return build, gateway
}

// ConfTemplate is the commented conf/gateway.conf that init writes.
const ConfTemplate = `# micro-gw gateway settings.
#
# "micro-gw build" compiles these values into the executable as its defaults.
# At run time an environment variable (same name, or with '-' as '_', or in
# UPPER_CASE) overrides a value here, and a command-line flag
# (--name=value) overrides both. Lines are "name = value"; '#' starts a comment.

# Listeners
# http-port = 9090
# https-port = 9095
# bind =

# TLS for the HTTPS listener. Without a certificate the gateway generates a
# self-signed one at start and logs a warning. Use absolute paths.
# tls-cert = /etc/micro-gw/tls.crt
# tls-key = /etc/micro-gw/tls.key

# Read-only admin listener (GET /status, GET /health), loopback by default.
# admin-port = 9091
# admin-bind = 127.0.0.1

# Logs: text or json; level debug, info, warn or error; one line per request.
# log-format = text
# log-level = info
# access-log = false

# Graceful shutdown, limits and connection pools.
# shutdown-timeout = 15s
# backend-timeout = 60s
# max-header-bytes = 16384
# max-conns-per-host = 1024
# max-connections = 0
# escaped-slashes = reject
# backend-idle-timeout = 90s
# client-idle-timeout = 90s
# client-read-timeout = 60s
# client-write-timeout = 60s

# Service discovery (endpoints written as etcd(<key>, <default_URL>)).
# The password itself is never stored here (it would be compiled into the
# executable): name a file holding it, or set the etcdpassword environment
# variable when running.
# etcdurl = http://127.0.0.1:2379
# etcdtimer = 10000
# etcdusername =
# etcdpassword-file =
# etcdcacert =
# etcdcert =
# etcdkey =

# Build: read by micro-gw build, not compiled into the executable.
# "true" refuses definitions with warnings too, as micro-gw build --strict.
# strict = false
`

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
		if k == "etcdpassword" {
			return nil, fmt.Errorf("%s:%d: etcdpassword may not be stored in the project (it would be compiled into the executable); pass --etcdpassword-file or the etcdpassword environment variable when running", name, n)
		}
		_, gateway := Settings[k]
		_, build := BuildSettings[k]
		if !gateway && !build {
			return nil, fmt.Errorf("%s:%d: unknown setting %q; known settings: %s", name, n, k, strings.Join(SettingNames(), ", "))
		}
		if k == "strict" && v != "true" && v != "false" {
			return nil, fmt.Errorf("%s:%d: strict = %q; write strict = true or strict = false", name, n, v)
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

// SettingNames returns the known setting names, gateway and build, sorted.
func SettingNames() []string {
	names := make([]string, 0, len(Settings)+len(BuildSettings))
	for k := range Settings {
		names = append(names, k)
	}
	for k := range BuildSettings {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
