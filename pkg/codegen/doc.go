// Package codegen turns a project's API definitions into a gateway executable.
//
// The pipeline has three separate steps:
//
//   - load (load.go, extensions.go, and lenient.go, validate.go,
//     security.go, servers.go, paths.go): OpenAPI 3.x and Swagger 2.0 files
//     with the x-wso2-* extensions become spec.API values. A problem that
//     makes routing impossible or ambiguous is a DefinitionError; a
//     specification violation the gateway does not depend on is a Warning;
//     each names the file, the line and what to do, and all of them come
//     together in a Diagnostics; the routes are then built with the runtime's
//     own code (routes.go), so that a gateway the build accepts always starts;
//   - generate (generate.go): a pure function from spec.Gateway to the
//     generated sources, rendered from the embedded templates;
//   - build (build.go): the sources, the embedded runtime and micro-gw's own
//     go.mod/go.sum are written to target/gen and compiled with go build.
package codegen
