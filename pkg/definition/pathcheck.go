package definition

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/micro-gw/micro-gw/pkg/gateway/router"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// checkPaths refuses every path template that cannot be routed, before the
// validator gives a less precise error about them; the others are still built.
func (p *parser) checkPaths() {
	for _, e := range pairs(get(p.root, "paths").val) {
		if strings.HasPrefix(e.key.Value, "x-") {
			continue
		}
		if msg, hint := checkPath(e.key.Value, true); msg != "" {
			p.badPaths[e.key.Value] = true
			p.collect(p.fail(e.key, "path "+showPath(e.key.Value), msg, hint))
		}
	}
}

// checkPath reports why p cannot be routed, as a message and a hint, or ""
// when it can. Resource paths may hold {param} templates, base paths may not.
func checkPath(p string, templates bool) (msg, hint string) {
	const hintChars = "a path holds no spaces, control characters, ? or #"
	if !strings.HasPrefix(p, "/") {
		return "does not start with /", "write the path from its leading /, e.g. /pet/{petId}"
	}
	if !utf8.ValidString(p) {
		return "is not valid UTF-8", hintChars
	}
	open := -1
	for i, r := range p {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Sprintf("contains the control character %q", r), hintChars
		case r == ' ':
			return "contains a space", hintChars
		case r == '?' || r == '#':
			return fmt.Sprintf("contains %q", r), hintChars + "; query parameters are declared as parameters, not in the path"
		case (r == '{' || r == '}') && !templates:
			return "contains { or }", "a base path is fixed text; only {version} is replaced (by info.version)"
		case r == '{':
			if open >= 0 {
				return "has a { inside another {...}", "write each path parameter once as {name}, e.g. /pet/{petId}"
			}
			if i > 0 && p[i-1] == '}' {
				// The router could not tell where one value ends and the next begins.
				return "has two parameters with nothing between them", "put fixed text between them, e.g. " + adjacentExample(p, i) + ", or make them one parameter"
			}
			open = i
		case r == '}':
			if open < 0 {
				return "has a } without its {", "write each path parameter as {name}, e.g. /pet/{petId}"
			}
			if i == open+1 {
				return "has an empty {}", "name the path parameter, e.g. /pet/{petId}"
			}
			open = -1
		case r == '/' && open >= 0:
			return "has a { without its }", "write each path parameter as {name}, e.g. /pet/{petId}"
		}
	}
	if open >= 0 {
		return "has a { without its }", "write each path parameter as {name}, e.g. /pet/{petId}"
	}
	if templates {
		// The gateway's router has the last word: what it refuses here
		// would make the compiled gateway fail at start.
		if _, err := router.Key(p); err != nil {
			return "cannot be routed: " + err.Error(), "put literal text between two parameters of a segment, e.g. /files/{name}.{ext}"
		}
	}
	return "", ""
}

// adjacentExample rewrites the segment of p around the "{" at i, which
// follows a "}", with a "-" between the two parameters: /x/{a}{b} gives
// /x/{a}-{b}.
func adjacentExample(p string, i int) string {
	start := strings.LastIndexByte(p[:i], '/') + 1
	end := strings.IndexByte(p[i:], '/')
	if end < 0 {
		end = len(p)
	} else {
		end += i
	}
	return p[:start] + strings.ReplaceAll(p[start:end], "}{", "}-{") + p[end:]
}

// routeKey is a route as the gateway's router files it (router.Key):
// parameter names blanked and escapes decoded, so that /pet/{id} and
// /pet/{petId} are one route. A path the router refuses, which checkPath
// has reported, keys as written.
func routeKey(basePath, p, method string) string {
	full := spec.JoinPath(basePath, p)
	if k, err := router.Key(full); err == nil {
		full = k
	}
	return method + " " + full
}
