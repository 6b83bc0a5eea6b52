package settings

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// table is every setting, one line each, in the order the conf template and
// the README show them. The settings of one group are next to each other.
// Defaults are written as in conf/gateway.conf and parsed like a value given
// there, so a default cannot mean something other than what the docs show.
var table = []Setting{
	{Name: "http-port", Group: Listeners, Where: Gateway, Type: Int, Default: "9090", Help: "HTTP listener port; 0 disables it"},
	{Name: "https-port", Group: Listeners, Where: Gateway, Type: Int, Default: "9095", Help: "HTTPS listener port; 0 disables it"},
	{Name: "bind", Group: Listeners, Where: Gateway, Type: String, Help: "host or IP the HTTP and HTTPS listeners bind to; empty means all interfaces"},
	{Name: "tls-cert", Group: TLS, Where: Gateway, Type: String, Example: "/etc/micro-gw/tls.crt", Help: "PEM certificate (chain) file for HTTPS; without it a self-signed certificate is generated at start, with a warning"},
	{Name: "tls-key", Group: TLS, Where: Gateway, Type: String, Example: "/etc/micro-gw/tls.key", Help: "PEM private key file for --tls-cert"},
	{Name: "admin-port", Group: Admin, Where: Gateway, Type: Int, Default: "9091", Help: "read-only admin listener port (GET /status, GET /health, GET /metrics); 0 disables it"},
	{Name: "admin-bind", Group: Admin, Where: Gateway, Type: String, Default: "127.0.0.1", Help: "host or IP the admin listener binds to"},
	{Name: "metrics", Group: Admin, Where: Gateway, Type: Bool, Default: "true", Help: "serve Prometheus metrics as GET /metrics on the admin listener (request, backend, discovery, auth and throttling metrics, and Go process metrics); false saves their cost on every request"},
	{Name: "log-format", Group: Logs, Where: Gateway, Type: Enum, Values: []string{"text", "json"}, Default: "text", Help: "log format: text or json"},
	// log-level is a String, not an Enum: slog also reads INFO, warn+2 and the like.
	{Name: "log-level", Group: Logs, Where: Gateway, Type: String, Default: "info", Help: "log level: debug, info, warn or error"},
	{Name: "access-log", Group: Logs, Where: Gateway, Type: Bool, Default: "false", Help: "log one line per request: method, path, status, upstream, duration (to the response headers), client, request id, API, resource template, backend duration, body bytes in and out, retries, and for an authenticated request its application and key type (never the credential)"},
	{Name: "shutdown-timeout", Group: Limits, Where: Gateway, Type: Duration, Default: "15s", Help: "on SIGTERM/SIGINT the gateway stops accepting and gives in-flight requests this long to finish, then exits 0; requests still running then are cut, logged as requests_cut, and the exit code is 1"},
	{Name: "backend-timeout", Group: Limits, Where: Gateway, Type: Duration, Default: "60s", Help: "backend timeout, from sending the request to the last byte of the response, for endpoints without timeoutInMillis; a timeout answers 504"},
	{Name: "max-header-bytes", Group: Limits, Where: Gateway, Type: Int, Default: "16384", Help: "largest request line plus headers accepted (larger gets 431), and largest backend response header"},
	{Name: "max-conns-per-host", Group: Limits, Where: Gateway, Type: Int, Default: "1024", Help: "most connections open to one backend host:port"},
	{Name: "max-connections", Group: Limits, Where: Gateway, Type: Int, Default: "0", Help: "most client connections open at once across the HTTP and HTTPS listeners; past it a new connection is closed at once (logged at most once a second, with a count). 0 derives it from the open-files limit: (soft limit - 64) / 2"},
	{Name: "escaped-slashes", Group: Limits, Where: Gateway, Type: Enum, Values: []string{"reject", "keep"}, Default: "reject", Help: "request paths with an encoded slash or backslash (%2F, %5C) or a plain backslash: reject (400) or keep (forward them as received, only for backends that treat %2F as data: one that decodes it serves paths outside the API, as /pet/1%2F..%2F..%2Fadmin matches /pet/{petId} and reaches the backend's /admin); an encoded NUL (%00) gets 400 either way"},
	{Name: "backend-idle-timeout", Group: Limits, Where: Gateway, Type: Duration, Default: "90s", Help: "close pooled backend connections idle this long"},
	{Name: "client-idle-timeout", Group: Limits, Where: Gateway, Type: Duration, Default: "90s", Help: "close keep-alive client connections idle this long"},
	{Name: "client-read-timeout", Group: Limits, Where: Gateway, Type: Duration, Default: "60s", Help: "longest time to read one whole request (headers and body) from a client"},
	{Name: "client-write-timeout", Group: Limits, Where: Gateway, Type: Duration, Default: "60s", Help: "longest time to write one whole response to a client"},
	{Name: "max-validated-body-bytes", Group: Limits, Where: Gateway, Type: Int, Default: "1048576", Help: "largest request or response body read whole to validate it, on resources with validation on (larger requests get 413; larger responses 500, fault 900916)"},
	{Name: "etcdurl", Group: Discovery, Where: Gateway, Type: String, Example: "http://127.0.0.1:2379", Help: "etcd member URL(s), http:// or https://, comma-separated; enables etcd(key, default) endpoints"},
	{Name: "etcdtimer", Group: Discovery, Where: Gateway, Type: Int, Default: "10000", Help: "period in milliseconds of the full re-read of every etcd key (a watch delivers changes at once)"},
	{Name: "etcdusername", Group: Discovery, Where: Gateway, Type: String, Help: "etcd user name"},
	{Name: "etcdpassword", Group: Discovery, Where: Env | Flag, Type: String, NoConf: "it would be compiled into the executable; pass --etcdpassword-file or the etcdpassword environment variable when running", Help: "etcd password (prefer --etcdpassword-file or the etcdpassword environment variable: flags show in the process list)"},
	{Name: "etcdpassword-file", Group: Discovery, Where: Gateway, Type: String, Help: "file holding the etcd password"},
	{Name: "etcdcacert", Group: Discovery, Where: Gateway, Type: String, Help: "PEM file of the CA that signed etcd's certificate"},
	{Name: "etcdcert", Group: Discovery, Where: Gateway, Type: String, Help: "PEM client certificate file for etcd"},
	{Name: "etcdkey", Group: Discovery, Where: Gateway, Type: String, Help: "PEM private key file for --etcdcert"},
	{Name: "jwt-issuer", Group: Security, Where: Gateway, Type: String, Example: "https://idp.example.com/oauth2/token", Help: "the iss of the JWTs to accept (OAuth2 bearer tokens and API keys as JWTs); APIs that require OAuth2 (the default) refuse to start without an issuer, from this or --jwt-issuers-file"},
	{Name: "jwt-audience", Group: Security, Where: Gateway, Type: String, Help: "when set, a JWT's aud must contain it"},
	{Name: "jwt-jwks-url", Group: Security, Where: Gateway, Type: String, Example: "https://idp.example.com/oauth2/jwks", Help: "the issuer's JWKS URL (https://, or http:// on loopback): fetched at start within a bounded time, refreshed every 10 minutes and on an unknown kid (at most once every 10 seconds); the last good key set is kept through outages, and until a first one exists requests get 401"},
	{Name: "jwt-cert", Group: Security, Where: Gateway, Type: String, Help: "PEM public key or certificate file of the issuer, instead of or besides --jwt-jwks-url"},
	{Name: "jwt-issuers-file", Group: Security, Where: Gateway, Type: String, Help: "YAML list of trusted issuers, each with issuer, audience, jwks_url, cert, hmac_secret_file, validate_subscription and claim names; used with or instead of --jwt-issuer"},
	{Name: "jwt-clock-skew", Group: Security, Where: Gateway, Type: Duration, Default: "5s", Help: "clock difference allowed when checking a JWT's exp, nbf and iat (micro-gw 3.x allowed 5s)"},
	{Name: "jwt-validate-subscription", Group: Security, Where: Gateway, Type: Bool, Default: "false", Help: "require a JWT's subscribedAPIs claim to list the API called (403, 900908) for --jwt-issuer"},
	{Name: "jwt-cache-size", Group: Security, Where: Gateway, Type: Int, Default: "10000", Help: "verified tokens kept in the cache (each entry holds the token, up to 32 KiB), each until its exp and 15 minutes at most; 0 takes the default"},
	{Name: "keep-auth-header", Group: Security, Where: Gateway, Type: Bool, Default: "false", Help: "send the credential header (or API key parameter) on to the backend; by default it is removed, as micro-gw 3.x did"},
	{Name: "basic-auth-file", Group: Security, Where: Gateway, Type: String, Help: "htpasswd file of basic-auth users with bcrypt entries (htpasswd -B), re-read when it changes; micro-gw 3.x SHA-1 hex entries are accepted with a warning"},
	{Name: "apikey-prefix", Group: Security, Where: Gateway, Type: String, Default: "micro-gw/apikeys/", Help: "etcd prefix of the opaque API keys (micro-gw apikey create): each key's SHA-256 with its application, key type, APIs and expiry; watched live"},
	{Name: "revoked-prefix", Group: Security, Where: Gateway, Type: String, Default: "micro-gw/revoked/", Help: "etcd prefix of revoked token ids (micro-gw revoke): a token whose jti is there is refused (401, 900901); watched live"},
	{Name: "client-ca", Group: Security, Where: Gateway, Type: String, Help: "PEM bundle of the CAs whose client certificates the HTTPS listener accepts, for APIs with x-wso2-mutual-ssl"},
	{Name: "throttle-redis-url", Group: Throttling, Where: Gateway, Type: String, Example: "redis://127.0.0.1:6379/0", Help: "Redis URL (redis://, rediss:// for TLS, or unix:///path) whose counters every gateway using it shares; empty counts on this gateway alone"},
	{Name: "throttle-redis-password-file", Group: Throttling, Where: Gateway, Type: String, Help: "file holding the Redis password"},
	{Name: "throttle-batch", Group: Throttling, Where: Gateway, Type: Int, Default: "0", Help: "with Redis, requests each gateway takes from a shared counter at once; 0 picks 1% of the limit (at least 1, at most 100). A cluster may admit at most batch x gateways requests more than one exact counter would, in any interval"},
	{Name: "throttle-redis-wait", Group: Throttling, Where: Gateway, Type: Duration, Default: "250ms", Help: "longest a request waits for a batch from Redis; past it (or when Redis refuses) each gateway counts alone with its share of every limit for a second, then asks Redis again"},
	{Name: "throttle-replicas", Group: Throttling, Where: Gateway, Type: Int, Default: "1", Help: "gateways sharing the limits; while Redis is unreachable each counts alone with every limit divided by this, so the cluster stays near the limit"},
	{Name: "otlp-endpoint", Group: Tracing, Where: Gateway, Type: String, Example: "http://127.0.0.1:4318", Help: "OpenTelemetry collector (OTLP/HTTP) base URL the gateway sends its traces to, at /v1/traces; empty turns tracing off. Headers (an API token) come from OTEL_EXPORTER_OTLP_HEADERS"},
	{Name: "trace-sample-ratio", Group: Tracing, Where: Gateway, Type: Float, Default: "1", Help: "share of the requests that start a trace, 0 to 1; a request carrying a traceparent follows its caller's choice"},
	{Name: "version", Group: Command, Where: Flag, Type: Bool, Default: "false", NoConf: "it asks the executable for a report instead of serving; pass --version when running", Help: "print the micro-gw version, the project and its APIs, then exit"},
	{Name: "strict", Group: Building, Where: Conf | Build, Type: Bool, Default: "false", Help: "refuse definitions with warnings too, as micro-gw build --strict does"},
	{Name: "request-validation", Group: Building, Where: Conf | Build, Type: Bool, Default: "false", Help: "validate requests against the definition's schemas (400, fault 900915) for every API that does not say x-wso2-request-validation: false; compiled in, so changing it needs a rebuild"},
	{Name: "response-validation", Group: Building, Where: Conf | Build, Type: Bool, Default: "false", Help: "validate backend responses against the definition's schemas (500, fault 900916, logged) for every API that does not say x-wso2-response-validation: false; compiled in, so changing it needs a rebuild"},
}

// Setting is one line of the table.
type Setting struct {
	// Name is the flag name (--name), the name in conf/gateway.conf and the
	// base of the environment variable names.
	Name  string
	Group Group
	Where Where
	Type  Type
	// Values lists the accepted values of an Enum.
	Values []string
	// Default is the value when nothing sets it, written as in
	// conf/gateway.conf: "60s", "9090", "" for none.
	Default string
	// Example is shown in the conf template in place of an empty Default,
	// for settings whose value is easier to grasp from a sample.
	Example string
	// Help is the flag's usage text and the README's description.
	Help string
	// NoConf says why a setting a gateway flag or the environment sets may
	// not be in conf/gateway.conf, and what to do instead.
	NoConf string
}

// Type is how a setting's value is written and parsed.
type Type uint8

// The types of settings.
const (
	Int      Type = iota + 1 // a whole number
	Duration                 // a Go duration: 60s, 1m30s, 500ms
	String                   // any text; "" when unset
	Bool                     // true or false
	Enum                     // one of Setting.Values
	Float                    // a decimal number: 0.25, 1
)

// Where says what may set a setting: a set of bits.
type Where uint8

// The places that may set a setting.
const (
	// Conf is the project's conf/gateway.conf. micro-gw build compiles its
	// gateway settings into the executable as defaults.
	Conf Where = 1 << iota
	// Env is an environment variable when the gateway starts: the name, the
	// name with '-' as '_', or that in UPPER_CASE.
	Env
	// Flag is a command-line flag of the gateway: --name=value.
	Flag
	// Build marks a setting micro-gw build reads from conf/gateway.conf
	// itself; it is not compiled into the executable.
	Build
	// Gateway is where most gateway settings may be set.
	Gateway = Conf | Env | Flag
)

// Group is a section of the conf template, with its comment.
type Group uint8

// The groups, in the order the conf template shows them.
const (
	Listeners Group = iota + 1
	TLS
	Admin
	Logs
	Limits
	Discovery
	Security
	Throttling
	Tracing
	Command
	Building
)

// groupComments are the comment blocks above each group in the conf
// template, one string per line.
var groupComments = map[Group][]string{
	Listeners: {"Listeners"},
	TLS: {"TLS for the HTTPS listener. Without a certificate the gateway generates a",
		"self-signed one at start and logs a warning. Use absolute paths."},
	Admin:  {"Read-only admin listener (GET /status, GET /health), loopback by default."},
	Logs:   {"Logs: text or json; level debug, info, warn or error; one line per request."},
	Limits: {"Graceful shutdown, limits and connection pools."},
	Discovery: {"Service discovery (endpoints written as etcd(<key>, <default_URL>)).",
		"The password itself is never stored here (it would be compiled into the",
		"executable): name a file holding it, or set the etcdpassword environment",
		"variable when running."},
	Security: {"Security: who may call. APIs are protected by OAuth2 unless their definition",
		"says x-wso2-disable-security: true, as in micro-gw 3.x; a gateway with such",
		"APIs needs a JWT issuer (jwt-issuer or jwt-issuers-file) to start."},
	Throttling: {"Throttling (x-wso2-throttling-tier, policies.yaml): counted on this gateway,",
		"or shared by every gateway using the same Redis."},
	Tracing: {"OpenTelemetry traces over OTLP/HTTP, off unless otlp-endpoint is set: a span",
		"per request and one per backend attempt, W3C traceparent sent to the backend."},
	Building: {"Build: read by micro-gw build, not compiled into the executable.",
		`strict: "true" refuses definitions with warnings too, as micro-gw build --strict.`,
		"request-validation, response-validation: \"true\" compiles the definitions' schemas in,",
		"checking requests (400, 900915) and backend responses (500, 900916) against",
		"them, for every API whose definition does not say x-wso2-request-validation: false",
		"or x-wso2-response-validation: false."},
}

// Comment returns the lines of the comment above the group in the conf
// template, without the leading "# ".
func (g Group) Comment() []string { return slices.Clone(groupComments[g]) }

// All returns every setting in table order.
func All() []Setting { return slices.Clone(table) }

// Lookup returns the setting named name.
func Lookup(name string) (Setting, bool) {
	i := slices.IndexFunc(table, func(s Setting) bool { return s.Name == name })
	if i < 0 {
		return Setting{}, false
	}
	return table[i], true
}

// Named returns the setting named name, for code that takes a default from
// the table. An unknown name is a programming error, so it panics.
func Named(name string) Setting {
	s, ok := Lookup(name)
	if !ok {
		panic(fmt.Sprintf("settings: no setting %q in the table", name))
	}
	return s
}

// Names returns, sorted, the names of the settings that where may set.
func Names(where Where) []string {
	var names []string
	for _, s := range table {
		if s.In(where) {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	return names
}

// In reports whether where may set s (every bit of where, if several).
func (s Setting) In(where Where) bool { return s.Where&where == where }

// Sample is the value the conf template shows: Example, or else Default.
func (s Setting) Sample() string {
	if s.Example != "" {
		return s.Example
	}
	return s.Default
}

// DefaultInt returns the default of an Int setting. The table's defaults
// are checked by the package's tests, so a bad one panics.
func (s Setting) DefaultInt() int {
	s.must(Int)
	n, err := strconv.Atoi(s.Default)
	if err != nil {
		panic(fmt.Sprintf("settings: %s: default %q is not a whole number", s.Name, s.Default))
	}
	return n
}

// DefaultDuration returns the default of a Duration setting.
func (s Setting) DefaultDuration() time.Duration {
	s.must(Duration)
	d, err := time.ParseDuration(s.Default)
	if err != nil {
		panic(fmt.Sprintf("settings: %s: default %q is not a duration", s.Name, s.Default))
	}
	return d
}

// DefaultFloat returns the default of a Float setting.
func (s Setting) DefaultFloat() float64 {
	s.must(Float)
	f, err := strconv.ParseFloat(s.Default, 64)
	if err != nil {
		panic(fmt.Sprintf("settings: %s: default %q is not a number", s.Name, s.Default))
	}
	return f
}

// DefaultBool returns the default of a Bool setting.
func (s Setting) DefaultBool() bool {
	s.must(Bool)
	return s.Default == "true"
}

func (s Setting) must(t Type) {
	if s.Type != t {
		panic(fmt.Sprintf("settings: %s is a %s setting, not a %s one", s.Name, s.Type, t))
	}
}

// Check reports whether v is a value of the setting's type, in the words
// of conf/gateway.conf: `name = "v"; write ...`. Booleans are exactly true
// or false, so that "yes" is refused rather than read as false.
func (s Setting) Check(v string) error {
	ok, want := true, ""
	switch s.Type {
	case Int:
		_, err := strconv.Atoi(v)
		ok, want = err == nil, "a whole number"
	case Duration:
		_, err := time.ParseDuration(v)
		ok, want = err == nil, "a duration such as 60s or 1m30s"
	case Float:
		_, err := strconv.ParseFloat(v, 64)
		ok, want = err == nil, "a number such as 0.25 or 1"
	case Bool:
		ok, want = v == "true" || v == "false", s.Name+" = true or "+s.Name+" = false"
	case Enum:
		ok, want = slices.Contains(s.Values, v), s.Choices()
	}
	if !ok {
		return fmt.Errorf("%s = %q; write %s", s.Name, v, want)
	}
	return nil
}

// Choices returns an Enum's values for a message: "a, b or c".
func (s Setting) Choices() string {
	n := len(s.Values)
	if n < 2 {
		return strings.Join(s.Values, "")
	}
	return strings.Join(s.Values[:n-1], ", ") + " or " + s.Values[n-1]
}

// String names the type as the README and messages do.
func (t Type) String() string {
	switch t {
	case Int:
		return "int"
	case Duration:
		return "duration"
	case String:
		return "string"
	case Bool:
		return "bool"
	case Enum:
		return "enum"
	case Float:
		return "float"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// String lists the places, as the README's table does: "conf, env, flag".
func (w Where) String() string {
	var parts []string
	for _, p := range []struct {
		bit  Where
		name string
	}{{Conf, "conf"}, {Env, "env"}, {Flag, "flag"}, {Build, "build"}} {
		if w&p.bit != 0 {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(parts, ", ")
}
