package gateway

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/proxy"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
)

// Config is the gateway's resolved configuration.
type Config struct {
	// HTTPAddr, HTTPSAddr and AdminAddr are listen addresses; "" disables
	// the listener. Port 0 picks a free port (tests).
	HTTPAddr, HTTPSAddr, AdminAddr string
	// TLSCert and TLSKey are PEM files; both empty means a self-signed
	// certificate generated at start.
	TLSCert, TLSKey string
	// ClientCA is the --client-ca PEM bundle: the CAs whose client
	// certificates the HTTPS listener verifies (mutual TLS); "" asks for
	// none.
	ClientCA string
	// ShutdownTimeout bounds how long in-flight requests may finish on SIGTERM.
	ShutdownTimeout time.Duration
	// MaxConnections bounds the client connections open at once across the
	// HTTP and HTTPS listeners; 0 derives it from the open-files limit.
	MaxConnections int
	// LogFormat is "text" or "json"; LogLevel is debug, info, warn or error.
	LogFormat, LogLevel string
	Proxy               proxy.Options
	Discovery           discovery.Options
	Security            SecurityConfig
	Throttling          ThrottleConfig
	// Metrics serves GET /metrics on the admin listener and records
	// request, backend and discovery metrics (--metrics).
	Metrics bool
	// Version asks for the version report instead of serving.
	Version bool
}

// flagSet declares a flag on fs for every setting a flag may set (package
// settings holds their names, types, defaults and help) and returns a
// function that turns the parsed values into a Config.
func flagSet(fs *flag.FlagSet) func() (Config, error) {
	v := declareFlags(fs)
	return v.config
}

// config checks the parsed values beyond their types and assembles the
// Config.
func (v flagValues) config() (Config, error) {
	c := Config{
		TLSCert: v.string("tls-cert"), TLSKey: v.string("tls-key"), ClientCA: v.string("client-ca"),
		ShutdownTimeout: v.duration("shutdown-timeout"),
		MaxConnections:  v.int("max-connections"),
		LogFormat:       v.string("log-format"), LogLevel: v.string("log-level"),
		Version: v.bool("version"), Metrics: v.bool("metrics"),
		Proxy: proxy.Options{
			Timeout: v.duration("backend-timeout"), MaxHeaderBytes: v.int("max-header-bytes"), MaxConnsPerHost: v.int("max-conns-per-host"),
			BackendIdleTimeout: v.duration("backend-idle-timeout"), ClientIdleTimeout: v.duration("client-idle-timeout"),
			ClientReadTimeout: v.duration("client-read-timeout"), ClientWriteTimeout: v.duration("client-write-timeout"),
			KeepEscapedSlashes:    v.string("escaped-slashes") == "keep",
			AccessLog:             v.bool("access-log"),
			MaxValidatedBodyBytes: v.int("max-validated-body-bytes"),
		},
		Security: SecurityConfig{
			JWTIssuer: v.string("jwt-issuer"), JWTAudience: v.string("jwt-audience"), JWTJWKSURL: v.string("jwt-jwks-url"),
			JWTCert: v.string("jwt-cert"), JWTIssuersFile: v.string("jwt-issuers-file"),
			JWTClockSkew: v.duration("jwt-clock-skew"), JWTValidateSubscription: v.bool("jwt-validate-subscription"),
			JWTCacheSize: v.int("jwt-cache-size"), KeepAuthHeader: v.bool("keep-auth-header"),
			BasicAuthFile: v.string("basic-auth-file"), APIKeyPrefix: v.string("apikey-prefix"), RevokedPrefix: v.string("revoked-prefix"),
		},
		Throttling: ThrottleConfig{RedisURL: v.string("throttle-redis-url"), RedisPasswordFile: v.string("throttle-redis-password-file"),
			Batch: v.int("throttle-batch"), Replicas: v.int("throttle-replicas"), RedisWait: v.duration("throttle-redis-wait")},
		Discovery: discovery.Options{
			Timer:    time.Duration(v.int("etcdtimer")) * time.Millisecond,
			Username: v.string("etcdusername"), Password: v.string("etcdpassword"),
			CACert: v.string("etcdcacert"), Cert: v.string("etcdcert"), Key: v.string("etcdkey"),
		},
	}
	if err := v.checkChoices(); err != nil {
		return c, err
	}
	if err := v.listeners(&c); err != nil {
		return c, err
	}
	if c.ClientCA != "" && c.HTTPSAddr == "" {
		return c, errors.New("--client-ca is set but the HTTPS listener is off (--https-port=0): client certificates come only over HTTPS; enable --https-port or drop --client-ca")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together: give both, or neither for a self-signed certificate")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return c, err
	}
	if err := checkLimits(c); err != nil {
		return c, err
	}
	if err := checkSecurity(c.Security); err != nil {
		return c, err
	}
	if err := checkThrottling(c.Throttling); err != nil {
		return c, err
	}
	if n := v.int("etcdtimer"); n <= 0 {
		return c, fmt.Errorf("--etcdtimer=%d: must be a positive number of milliseconds", n)
	}
	for _, u := range strings.Split(v.string("etcdurl"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.Discovery.Endpoints = append(c.Discovery.Endpoints, u)
		}
	}
	if err := discovery.CheckEndpoints(c.Discovery.Endpoints); err != nil {
		return c, err
	}
	if file := v.string("etcdpassword-file"); file != "" {
		if c.Discovery.Password != "" {
			return c, errors.New("--etcdpassword and --etcdpassword-file are both set: give one")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("--etcdpassword-file: %w", err)
		}
		c.Discovery.Password = strings.TrimRight(string(b), "\r\n")
	}
	return c, nil
}

// listeners sets the listen addresses of c from the ports and binds. Port 0
// disables a listener, and one of HTTP and HTTPS must stay.
func (v flagValues) listeners(c *Config) error {
	httpPort, httpsPort, adminPort := v.int("http-port"), v.int("https-port"), v.int("admin-port")
	for _, p := range []struct {
		name string
		v    int
	}{{"http-port", httpPort}, {"https-port", httpsPort}, {"admin-port", adminPort}} {
		if p.v < 0 || p.v > 65535 {
			return fmt.Errorf("--%s=%d: a port is 0 (disabled) to 65535", p.name, p.v)
		}
	}
	addr := func(host string, port int) string {
		if port == 0 {
			return ""
		}
		return net.JoinHostPort(host, strconv.Itoa(port))
	}
	bind := v.string("bind")
	c.HTTPAddr, c.HTTPSAddr, c.AdminAddr = addr(bind, httpPort), addr(bind, httpsPort), addr(v.string("admin-bind"), adminPort)
	if c.HTTPAddr == "" && c.HTTPSAddr == "" {
		return errors.New("--http-port and --https-port are both 0: enable at least one listener")
	}
	return nil
}

// checkLimits refuses timeouts and sizes the gateway cannot work with.
func checkLimits(c Config) error {
	if c.ShutdownTimeout < 0 {
		return fmt.Errorf("--shutdown-timeout=%s: must not be negative", c.ShutdownTimeout)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"backend-timeout", c.Proxy.Timeout}, {"backend-idle-timeout", c.Proxy.BackendIdleTimeout}, {"client-idle-timeout", c.Proxy.ClientIdleTimeout}} {
		if d.v <= 0 {
			return fmt.Errorf("--%s=%s: must be positive", d.name, d.v)
		}
	}
	if c.Proxy.MaxHeaderBytes < 1024 {
		return fmt.Errorf("--max-header-bytes=%d: must be at least 1024", c.Proxy.MaxHeaderBytes)
	}
	if c.MaxConnections < 0 {
		return fmt.Errorf("--max-connections=%d: must be 0 (derived from the open-files limit) or positive", c.MaxConnections)
	}
	if c.Proxy.MaxConnsPerHost <= 0 {
		return fmt.Errorf("--max-conns-per-host=%d: must be positive", c.Proxy.MaxConnsPerHost)
	}
	return nil
}

// flagValues holds the value of each flag by name, as flag.FlagSet keeps
// it: an *int, *time.Duration, *string or *bool, after the setting's type.
type flagValues map[string]any

// declareFlags declares on fs every setting a flag may set.
func declareFlags(fs *flag.FlagSet) flagValues {
	v := flagValues{}
	for _, s := range settings.All() {
		if !s.In(settings.Flag) {
			continue
		}
		switch s.Type {
		case settings.Int:
			v[s.Name] = fs.Int(s.Name, s.DefaultInt(), s.Help)
		case settings.Duration:
			v[s.Name] = fs.Duration(s.Name, s.DefaultDuration(), s.Help)
		case settings.Bool:
			v[s.Name] = fs.Bool(s.Name, s.DefaultBool(), s.Help)
		default:
			v[s.Name] = fs.String(s.Name, s.Default, s.Help)
		}
	}
	return v
}

// flagValue returns the parsed value of the flag named name. A name that is
// not in the table, or a T that is not its type, is a programming error that
// every test of ParseConfig meets, so it panics.
func flagValue[T any](v flagValues, name string) T {
	p, ok := v[name].(*T)
	if !ok {
		panic(fmt.Sprintf("gateway: no %T flag --%s in package settings", *new(T), name))
	}
	return *p
}

func (v flagValues) int(name string) int                { return flagValue[int](v, name) }
func (v flagValues) duration(name string) time.Duration { return flagValue[time.Duration](v, name) }
func (v flagValues) string(name string) string          { return flagValue[string](v, name) }
func (v flagValues) bool(name string) bool              { return flagValue[bool](v, name) }

// checkChoices refuses a value of an Enum setting that is not one of its
// values.
func (v flagValues) checkChoices() error {
	for _, s := range settings.All() {
		if s.Type != settings.Enum || !s.In(settings.Flag) {
			continue
		}
		if val := v.string(s.Name); !slices.Contains(s.Values, val) {
			return fmt.Errorf("--%s=%q: use %s", s.Name, val, s.Choices())
		}
	}
	return nil
}

// flagsOnly names the flags the environment does not set, for the usage
// text: " but --version".
func flagsOnly() string {
	var names []string
	for _, s := range settings.All() {
		if s.In(settings.Flag) && !s.In(settings.Env) {
			names = append(names, "--"+s.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " but " + strings.Join(names, ", ")
}

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
// the built-in defaults, the project's settings (conf, from
// conf/gateway.conf, embedded at build time), environment variables and
// command-line arguments. Usage goes to usage; flag.ErrHelp is returned for -h.
func ParseConfig(conf map[string]string, args []string, lookupEnv func(string) (string, bool), usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(usage)
	build := flagSet(fs)
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: %s [flags]\n\nEvery flag%s can also be set by an environment variable named like the flag\n(etcdurl, http-port), with _ for - (http_port), or upper-case (HTTP_PORT).\nCommand-line flags win over the environment, which wins over conf/gateway.conf.\n\nFlags:\n", fs.Name(), flagsOnly())
		fs.PrintDefaults()
	}

	for _, k := range slices.Sorted(maps.Keys(conf)) {
		s, ok := settings.Lookup(k)
		if !ok || !s.In(settings.Flag) {
			return Config{}, fmt.Errorf("conf/gateway.conf setting %q is not a gateway flag; see --help for the names", k)
		}
		if !s.In(settings.Conf) {
			return Config{}, fmt.Errorf("conf/gateway.conf setting %s may not be stored in the project: %s", k, s.NoConf)
		}
		if err := fs.Set(k, conf[k]); err != nil {
			return Config{}, fmt.Errorf("conf/gateway.conf setting %s=%q: %w", k, conf[k], err)
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if envErr != nil || !settings.Named(f.Name).In(settings.Env) {
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
