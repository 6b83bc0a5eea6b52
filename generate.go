package microgw

// README.md's settings table and the example project's conf/gateway.conf
// are generated from package settings (pkg/gateway/settings); the tests of
// internal/gendocs fail while they are stale.
//
//go:generate go run ./internal/gendocs
