// Package definition loads API definitions, OpenAPI 3.x and Swagger 2.0
// files with the x-wso2-* extensions, and checks them into the shared model
// (pkg/spec). A problem that makes routing impossible or ambiguous is an
// Error; a specification violation the gateway does not depend on is a
// Warning; each names the file, the line and what to do, and all of them
// come together in a Diagnostics.
//
// One definition goes through these steps (parser.load), each in its file:
//
//   - yamlparse.go, nodes.go: the text becomes a YAML node tree (JSON is
//     YAML), which keeps the line of every key;
//   - lenient.go, refchains.go: parts that micro-gw 3.x accepted and
//     kin-openapi refuses are rewritten in the text, each with a warning;
//   - pathcheck.go: path templates the gateway's router cannot route are
//     refused, with the router's own grammar (router.Key);
//   - parser.go (openapi), validate.go, validatedoc.go: kin-openapi loads
//     and validates the document; kinerrors.go maps its errors to lines. A
//     clean document is loaded the fast way (fastload.go: encoding/json,
//     path items on every core, started beside the tree's parse; a YAML
//     one as the JSON its tree spells, yamljson.go): kin-openapi's own
//     decode compares every pair of keys of a mapping, quadratic in a
//     large components section;
//   - model.go: the spec.API, read with the extension readers
//     (extensions.go: one table of x-wso2-* keys; endpoints.go, values.go,
//     servers.go, security.go), and the checks within the file (paths.go).
//
// LoadDir (load.go) then checks the definitions against each other
// (crosscheck.go) and builds the route table with the gateway's own code
// (routes.go), so that a gateway the build accepts always starts.
package definition
