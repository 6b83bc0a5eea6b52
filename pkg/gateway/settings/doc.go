// Package settings declares every setting of micro-gw once, in one table
// (settings.go): its name, type, default, help text, the group it is shown
// in, and what may set it (conf/gateway.conf, the environment, a gateway
// flag, or micro-gw build alone).
//
// Everything else is derived from the table:
//
//   - the gateway's flag set and its environment variables
//     (pkg/gateway, config.go), which keeps the checks of values that go
//     beyond the type, and the assembly of the Config;
//   - the defaults of proxy.Options and discovery.Options, for callers that
//     leave a field zero (tests build proxies with zero Options);
//   - the commented conf/gateway.conf that micro-gw init writes, and the
//     names conf/gateway.conf may hold (pkg/project, conf.go);
//   - the settings table of README.md and the example project's
//     conf/gateway.conf, written by go generate (internal/gendocs), whose
//     tests fail when either is stale.
//
// The package imports only the standard library, so that the gateway, its
// proxy and the build side can all import it; it is compiled into every
// gateway.
//
// # Adding a setting
//
// A new setting is one line in the table, in the group it belongs to:
//
//	{Name: "rate-limit", Group: Limits, Where: Gateway, Type: Int, Default: "0", Help: "most requests per second per client IP; 0 means no limit"},
//
// Then run go generate . in the repository root to refresh the README and
// the example project, and read its value where the Config is assembled
// (pkg/gateway, config.go) along with any check of its range. A setting that
// must never be compiled into the executable, as a password, leaves Conf out
// of Where and says why in NoConf; one that only micro-gw build reads has
// Where: Conf | Build and the Building group. The package's tests check the
// table: names, types, parseable defaults, groups kept together.
package settings
