// Package codegen turns a model (spec.Gateway) into a gateway executable. It
// takes values, never a project folder: the CLI reads the project
// (pkg/project) and loads its definitions (pkg/definition), then calls
// Compile.
//
// Compile has two steps:
//
//   - generate (generate.go): a pure function from spec.Gateway to the
//     generated sources, rendered from the embedded templates; the model
//     travels as JSON data (routes.json), never as Go source;
//   - compile (compile.go): the sources, the embedded runtime and micro-gw's
//     own go.mod/go.sum are written to the generated module's folder and
//     compiled with go build; the executable must run before it replaces
//     the previous one.
package codegen
