package gateway

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/proxy"
)

// Config is the gateway's resolved configuration.
type Config struct {
	// HTTPAddr, HTTPSAddr and AdminAddr are listen addresses; "" disables
	// the listener. Port 0 picks a free port (tests).
	HTTPAddr, HTTPSAddr, AdminAddr string
	// TLSCert and TLSKey are PEM files; both empty means a self-signed
	// certificate generated at start.
	TLSCert, TLSKey string
	// ShutdownTimeout bounds how long in-flight requests may finish on SIGTERM.
	ShutdownTimeout time.Duration
	// MaxConnections bounds the client connections open at once across the
	// HTTP and HTTPS listeners; 0 derives it from the open-files limit.
	MaxConnections int
	// LogFormat is "text" or "json"; LogLevel is debug, info, warn or error.
	LogFormat, LogLevel string
	Proxy               proxy.Options
	Discovery           discovery.Options
	// Version asks for the version report instead of serving.
	Version bool
}

// flagSet declares every flag on fs and returns a function that turns the
// parsed values into a Config.
func flagSet(fs *flag.FlagSet) func() (Config, error) {
	var (
		httpPort        = fs.Int("http-port", 9090, "HTTP listener port; 0 disables it")
		httpsPort       = fs.Int("https-port", 9095, "HTTPS listener port; 0 disables it")
		bind            = fs.String("bind", "", "host or IP the HTTP and HTTPS listeners bind to; empty means all interfaces")
		adminPort       = fs.Int("admin-port", 9091, "read-only admin listener port (GET /status, GET /health); 0 disables it")
		adminBind       = fs.String("admin-bind", "127.0.0.1", "host or IP the admin listener binds to")
		tlsCert         = fs.String("tls-cert", "", "PEM certificate (chain) file for HTTPS; without it a self-signed certificate is generated at start")
		tlsKey          = fs.String("tls-key", "", "PEM private key file for --tls-cert")
		shutdownTimeout = fs.Duration("shutdown-timeout", 15*time.Second, "on SIGTERM/SIGINT, how long in-flight requests may take to finish")
		logFormat       = fs.String("log-format", "text", "log format: text or json")
		logLevel        = fs.String("log-level", "info", "log level: debug, info, warn or error")
		accessLog       = fs.Bool("access-log", false, "log one line per request (method, path, status, upstream, duration to response headers)")
		backendTimeout  = fs.Duration("backend-timeout", 60*time.Second, "backend timeout, from sending the request to the last byte of the response, for endpoints without timeoutInMillis; a timeout answers 504")
		maxHeaderBytes  = fs.Int("max-header-bytes", 16<<10, "largest request line plus headers accepted (larger gets 431), and largest backend response header")
		maxConns        = fs.Int("max-conns-per-host", 1024, "most connections open to one backend host:port")
		maxClientConns  = fs.Int("max-connections", 0, "most client connections open at once across the HTTP and HTTPS listeners; past it a new connection is closed at once. 0 derives it from the open-files limit: (soft limit - 64) / 2")
		backendIdle     = fs.Duration("backend-idle-timeout", 90*time.Second, "close pooled backend connections idle this long")
		clientIdle      = fs.Duration("client-idle-timeout", 90*time.Second, "close keep-alive client connections idle this long")
		clientRead      = fs.Duration("client-read-timeout", 60*time.Second, "longest time to read one whole request (headers and body) from a client")
		clientWrite     = fs.Duration("client-write-timeout", 60*time.Second, "longest time to write one whole response to a client")
		escapedSlashes  = fs.String("escaped-slashes", "reject", "request paths with an encoded slash or backslash (%2F, %5C): reject (400) or keep (forward them; a backend that decodes them may serve paths outside the API)")
		etcdURL         = fs.String("etcdurl", "", "etcd member URL(s), http:// or https://, comma-separated; enables etcd(key, default) endpoints")
		etcdTimer       = fs.Int("etcdtimer", 10000, "period in milliseconds of the full re-read of every etcd key (a watch delivers changes at once)")
		etcdUser        = fs.String("etcdusername", "", "etcd user name")
		etcdPassword    = fs.String("etcdpassword", "", "etcd password (prefer --etcdpassword-file or the etcdpassword environment variable: flags show in the process list)")
		etcdPassFile    = fs.String("etcdpassword-file", "", "file holding the etcd password")
		etcdCA          = fs.String("etcdcacert", "", "PEM file of the CA that signed etcd's certificate")
		etcdCert        = fs.String("etcdcert", "", "PEM client certificate file for etcd")
		etcdKey         = fs.String("etcdkey", "", "PEM private key file for --etcdcert")
		version         = fs.Bool("version", false, "print the micro-gw version, the project and its APIs, then exit")
	)
	return func() (Config, error) {
		c := Config{
			TLSCert: *tlsCert, TLSKey: *tlsKey,
			ShutdownTimeout: *shutdownTimeout,
			MaxConnections:  *maxClientConns,
			LogFormat:       *logFormat, LogLevel: *logLevel,
			Version: *version,
			Proxy: proxy.Options{
				Timeout: *backendTimeout, MaxHeaderBytes: *maxHeaderBytes, MaxConnsPerHost: *maxConns,
				BackendIdleTimeout: *backendIdle, ClientIdleTimeout: *clientIdle, AccessLog: *accessLog,
				ClientReadTimeout: *clientRead, ClientWriteTimeout: *clientWrite,
			},
			Discovery: discovery.Options{
				Timer:    time.Duration(*etcdTimer) * time.Millisecond,
				Username: *etcdUser, Password: *etcdPassword,
				CACert: *etcdCA, Cert: *etcdCert, Key: *etcdKey,
			},
		}
		for _, p := range []struct {
			name string
			v    int
		}{{"http-port", *httpPort}, {"https-port", *httpsPort}, {"admin-port", *adminPort}} {
			if p.v < 0 || p.v > 65535 {
				return c, fmt.Errorf("--%s=%d: a port is 0 (disabled) to 65535", p.name, p.v)
			}
		}
		addr := func(host string, port int) string {
			if port == 0 {
				return ""
			}
			return net.JoinHostPort(host, strconv.Itoa(port))
		}
		c.HTTPAddr, c.HTTPSAddr, c.AdminAddr = addr(*bind, *httpPort), addr(*bind, *httpsPort), addr(*adminBind, *adminPort)
		if c.HTTPAddr == "" && c.HTTPSAddr == "" {
			return c, errors.New("--http-port and --https-port are both 0: enable at least one listener")
		}
		if (c.TLSCert == "") != (c.TLSKey == "") {
			return c, errors.New("--tls-cert and --tls-key go together: give both, or neither for a self-signed certificate")
		}
		if c.LogFormat != "text" && c.LogFormat != "json" {
			return c, fmt.Errorf("--log-format=%q: use text or json", c.LogFormat)
		}
		if _, err := parseLevel(c.LogLevel); err != nil {
			return c, err
		}
		if c.ShutdownTimeout < 0 {
			return c, fmt.Errorf("--shutdown-timeout=%s: must not be negative", c.ShutdownTimeout)
		}
		for _, d := range []struct {
			name string
			v    time.Duration
		}{{"backend-timeout", *backendTimeout}, {"backend-idle-timeout", *backendIdle}, {"client-idle-timeout", *clientIdle}} {
			if d.v <= 0 {
				return c, fmt.Errorf("--%s=%s: must be positive", d.name, d.v)
			}
		}
		if *maxHeaderBytes < 1024 {
			return c, fmt.Errorf("--max-header-bytes=%d: must be at least 1024", *maxHeaderBytes)
		}
		switch *escapedSlashes {
		case "reject":
		case "keep":
			c.Proxy.KeepEscapedSlashes = true
		default:
			return c, fmt.Errorf("--escaped-slashes=%q: use reject or keep", *escapedSlashes)
		}
		if *maxClientConns < 0 {
			return c, fmt.Errorf("--max-connections=%d: must be 0 (derived from the open-files limit) or positive", *maxClientConns)
		}
		if *maxConns <= 0 {
			return c, fmt.Errorf("--max-conns-per-host=%d: must be positive", *maxConns)
		}
		if *etcdTimer <= 0 {
			return c, fmt.Errorf("--etcdtimer=%d: must be a positive number of milliseconds", *etcdTimer)
		}
		for _, u := range strings.Split(*etcdURL, ",") {
			if u = strings.TrimSpace(u); u != "" {
				c.Discovery.Endpoints = append(c.Discovery.Endpoints, u)
			}
		}
		if err := discovery.CheckEndpoints(c.Discovery.Endpoints); err != nil {
			return c, err
		}
		if *etcdPassFile != "" {
			if c.Discovery.Password != "" {
				return c, errors.New("--etcdpassword and --etcdpassword-file are both set: give one")
			}
			b, err := os.ReadFile(*etcdPassFile)
			if err != nil {
				return c, fmt.Errorf("--etcdpassword-file: %w", err)
			}
			c.Discovery.Password = strings.TrimRight(string(b), "\r\n")
		}
		return c, nil
	}
}

// noEnv lists flags never read from the environment: VERSION is too
// commonly set for other purposes.
var noEnv = map[string]bool{"version": true}

// envNames are the environment variables that can set a flag, in order of
// precedence: the flag's own name (as micro-gw's docker images use
// etcdurl), with "-" as "_", and upper-case.
func envNames(flagName string) []string {
	snake := strings.ReplaceAll(flagName, "-", "_")
	names := []string{flagName}
	if snake != flagName {
		names = append(names, snake)
	}
	return append(names, strings.ToUpper(snake))
}

// ParseConfig resolves the configuration from, by increasing precedence,
// the built-in defaults, the project's settings (conf/gateway.conf, embedded
// at build time), environment variables and command-line arguments.
// Usage goes to usage; flag.ErrHelp is returned for -h.
func ParseConfig(settings map[string]string, args []string, lookupEnv func(string) (string, bool), usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(usage)
	build := flagSet(fs)
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: %s [flags]\n\nEvery flag can also be set by an environment variable named like the flag\n(etcdurl, http-port), with _ for - (http_port), or upper-case (HTTP_PORT).\nCommand-line flags win over the environment, which wins over conf/gateway.conf.\n\nFlags:\n", fs.Name())
		fs.PrintDefaults()
	}

	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if fs.Lookup(k) == nil {
			return Config{}, fmt.Errorf("conf/gateway.conf setting %q is not a gateway flag; see --help for the names", k)
		}
		if err := fs.Set(k, settings[k]); err != nil {
			return Config{}, fmt.Errorf("conf/gateway.conf setting %s=%q: %w", k, settings[k], err)
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if envErr != nil || noEnv[f.Name] {
			return
		}
		for _, name := range envNames(f.Name) {
			if v, ok := lookupEnv(name); ok {
				if err := fs.Set(f.Name, v); err != nil {
					envErr = fmt.Errorf("environment variable %s=%q (flag --%s): %w", name, v, f.Name, err)
				}
				return
			}
		}
	})
	if envErr != nil {
		return Config{}, envErr
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q: the gateway takes only flags (--name=value)", fs.Arg(0))
	}
	return build()
}
