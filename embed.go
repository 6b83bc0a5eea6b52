// Package microgw carries what the micro-gw CLI needs at build time in its own
// binary: the code-generation templates and the gateway runtime's source with
// the exact go.mod and go.sum it was tested with. See docs/design-modules.md.
package microgw

import "embed"

// Version is the micro-gw version; release builds set it with -ldflags -X.
var Version = "0.1.0-dev"

// Templates holds templates/*.tmpl.
//
//go:embed templates
var Templates embed.FS

// Source holds the module files and the runtime source tree that every
// generated gateway compiles against.
//
//go:embed go.mod go.sum pkg/gateway pkg/spec
var Source embed.FS
