// Package definition loads API definitions, OpenAPI 3.x and Swagger 2.0
// files with the x-wso2-* extensions, and checks them into the shared model
// (pkg/spec). A problem that makes routing impossible or ambiguous is an
// error; a specification violation the gateway does not depend on is a
// Warning; each names the file, the line and what to do, and all of them
// come together in a Diagnostics.
package definition
