// Command micro-gw compiles OpenAPI definitions into a self-contained API
// gateway executable. See the README at the repository root.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
