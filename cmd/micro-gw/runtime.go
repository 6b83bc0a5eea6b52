package main

// The CLI links the gateway runtime it never runs so that installing
// micro-gw also downloads every module a generated gateway compiles against:
// after `go install`, `GOPROXY=off micro-gw build` works. See
// docs/design-modules.md.
import _ "github.com/micro-gw/micro-gw/pkg/gateway"
