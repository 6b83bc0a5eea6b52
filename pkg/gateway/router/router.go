// Package router matches request paths against OpenAPI path templates.
//
// Templates are split on "/" into a trie of segments. At each level a literal
// segment is tried first (one map lookup), then segments mixing text and
// parameters ("{name}.json"), then a whole-segment parameter ("{petId}"),
// backtracking when a branch dead-ends. A lookup therefore costs a few map
// lookups per path segment whatever the number of routes, and allocates
// nothing.
//
// Lookup matches the path it is given byte for byte. Templates are stored
// in their match form (AppendMatchPath: percent-escapes decoded, except
// those of '/', '\', NUL and '%'), so a caller passes a request path with
// escapes through AppendMatchPath first, and then /caf%C3%A9 matches the
// template /café. A path without '%' is its own match form and needs no
// copy. A parameter never matches an empty, "." or ".." segment (also
// percent-encoded, or followed by ";parameters" as in "..;"), so a request
// cannot climb out of a backend's base path.
package router

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Entry is one route: a full path template (base path included) and a method.
type Entry[T any] struct {
	// Path is an OpenAPI path template starting with "/", e.g. "/petstore/v1/pet/{petId}".
	Path string
	// Method is upper-case, e.g. "GET".
	Method string
	Value  T
}

// Router is an immutable route table; Lookup is safe for concurrent use.
type Router[T any] struct {
	root node[T]
}

type node[T any] struct {
	static   map[string]*node[T]
	patterns []*patternNode[T]
	param    *node[T]
	methods  []method[T]
	allow    string
}

type method[T any] struct {
	name  string
	value T
}

type patternNode[T any] struct {
	key   string   // normalized template segment, parameters written "{}"
	parts []string // literal texts; a parameter sits between each pair
	node[T]
}

// New builds a router. A template that is malformed, or a method and
// template that repeat another entry (parameter names aside), is an error.
func New[T any](entries []Entry[T]) (*Router[T], error) {
	r := &Router[T]{}
	seen := map[string]string{}
	for _, e := range entries {
		segs, key, err := parseTemplate(e.Path)
		if err != nil {
			return nil, fmt.Errorf("route %s %q: %w", e.Method, e.Path, err)
		}
		if e.Method == "" || strings.ToUpper(e.Method) != e.Method {
			return nil, fmt.Errorf("route %q: method %q must be upper-case and not empty", e.Path, e.Method)
		}
		n := &r.root
		for _, seg := range segs {
			n = n.child(seg.key, seg.parts)
		}
		id := e.Method + " " + key
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("route %s %q duplicates %s %q", e.Method, e.Path, e.Method, prev)
		}
		seen[id] = e.Path
		n.methods = append(n.methods, method[T]{e.Method, e.Value})
	}
	r.root.finish()
	return r, nil
}

// Key returns the key under which the router files a path template: its
// parameter names blanked ("{}") and its literal text in match form (see
// AppendMatchPath). Two templates with one key are one route: /pet/{id} and
// /pet/{petId}, /café and /caf%C3%A9. The error says why the router cannot
// route the template, the same reason New gives.
func Key(template string) (string, error) {
	_, key, err := parseTemplate(template)
	return key, err
}

// segment is one parsed segment of a template.
type segment struct {
	key   string
	parts []string
}

// parseTemplate parses every segment of a template and joins their keys
// into the template's key.
func parseTemplate(template string) ([]segment, string, error) {
	if !strings.HasPrefix(template, "/") {
		return nil, "", fmt.Errorf("a path template must start with \"/\"")
	}
	var segs []segment
	var key strings.Builder
	for _, seg := range strings.Split(template[1:], "/") {
		k, parts, err := parseSegment(seg)
		if err != nil {
			return nil, "", err
		}
		key.WriteString("/" + k)
		segs = append(segs, segment{k, parts})
	}
	return segs, key.String(), nil
}

// parseSegment returns the normalized key of one template segment and, for a
// segment with parameters, its literal parts ("{}" alone for a whole-segment
// parameter, nil parts for a literal).
func parseSegment(seg string) (key string, parts []string, err error) {
	if !strings.ContainsAny(seg, "{}") {
		return matchForm(seg), nil, nil
	}
	var b strings.Builder
	rest := seg
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return "", nil, fmt.Errorf("segment %q has a \"}\" without \"{\"", seg)
			}
			parts = append(parts, matchForm(rest))
			b.WriteString(matchForm(rest))
			break
		}
		closing := strings.IndexByte(rest[open:], '}')
		if closing < 0 || strings.IndexByte(rest[:open], '}') >= 0 {
			return "", nil, fmt.Errorf("segment %q has unbalanced braces", seg)
		}
		name := rest[open+1 : open+closing]
		if name == "" || strings.ContainsAny(name, "{") {
			return "", nil, fmt.Errorf("segment %q has an empty or nested parameter name", seg)
		}
		parts = append(parts, matchForm(rest[:open]))
		b.WriteString(matchForm(rest[:open]) + "{}")
		rest = rest[open+closing+1:]
	}
	for i := 1; i < len(parts)-1; i++ {
		if parts[i] == "" {
			return "", nil, fmt.Errorf("segment %q has two parameters with nothing between them", seg)
		}
	}
	return b.String(), parts, nil
}

func (n *node[T]) child(key string, parts []string) *node[T] {
	switch {
	case parts == nil:
		if n.static == nil {
			n.static = map[string]*node[T]{}
		}
		c := n.static[key]
		if c == nil {
			c = &node[T]{}
			n.static[key] = c
		}
		return c
	case key == "{}":
		if n.param == nil {
			n.param = &node[T]{}
		}
		return n.param
	default:
		for _, p := range n.patterns {
			if p.key == key {
				return &p.node
			}
		}
		p := &patternNode[T]{key: key, parts: parts}
		n.patterns = append(n.patterns, p)
		return &p.node
	}
}

// finish precomputes the Allow header of every node with methods.
func (n *node[T]) finish() {
	if len(n.methods) > 0 {
		names := make([]string, len(n.methods))
		for i, m := range n.methods {
			names[i] = m.name
		}
		slices.Sort(names)
		n.allow = strings.Join(names, ", ")
	}
	for _, c := range n.static {
		c.finish()
	}
	for _, p := range n.patterns {
		p.finish()
	}
	if n.param != nil {
		n.param.finish()
	}
}

// Lookup finds the route for a raw request path and method.
//
// found reports a match. When the path matches but the method does not,
// found is false and allow lists the path's methods (for a 405 and its Allow
// header); when nothing matches, allow is empty (a 404). A trailing slash
// that no template has is ignored.
func (r *Router[T]) Lookup(meth, path []byte) (value T, allow string, found bool) {
	if len(path) == 0 || path[0] != '/' {
		return value, "", false
	}
	n := r.root.match(path)
	if n == nil && len(path) > 1 && path[len(path)-1] == '/' {
		n = r.root.match(path[:len(path)-1])
	}
	if n == nil {
		return value, "", false
	}
	for i := range n.methods {
		if n.methods[i].name == string(meth) {
			return n.methods[i].value, "", true
		}
	}
	return value, n.allow, false
}

// match walks path, which is empty or starts with "/", from n.
func (n *node[T]) match(path []byte) *node[T] {
	if len(path) == 0 {
		if n.methods != nil {
			return n
		}
		return nil
	}
	seg, rest := path[1:], []byte(nil)
	for i, c := range seg {
		if c == '/' {
			seg, rest = seg[:i], seg[i:]
			break
		}
	}
	if c := n.static[string(seg)]; c != nil {
		if m := c.match(rest); m != nil {
			return m
		}
	}
	if len(n.patterns) > 0 && paramValue(seg) {
		for _, p := range n.patterns {
			if glob(p.parts, seg) {
				if m := p.match(rest); m != nil {
					return m
				}
			}
		}
	}
	if n.param != nil && paramValue(seg) {
		return n.param.match(rest)
	}
	return nil
}

// paramValue reports whether seg may be a parameter's value: not empty and
// not a dot segment, written plainly or percent-encoded, nor one followed
// by ";parameters" ("..;", "..;jsessionid=1"): Tomcat, Jetty and Spring
// strip those before resolving dot segments, so they read "..;" as "..".
func paramValue(seg []byte) bool {
	if len(seg) == 0 || dotSegment(seg) {
		return false
	}
	if i := bytes.IndexByte(seg, ';'); i > 0 && dotSegment(seg[:i]) {
		return false
	}
	return true
}

// dotSegment reports whether seg is "." or "..", each dot written plainly
// or as %2E.
func dotSegment(seg []byte) bool {
	if len(seg) == 0 || len(seg) > 6 {
		return false
	}
	dots := 0
	for i := 0; i < len(seg); {
		if seg[i] == '.' {
			i++
		} else if i+2 < len(seg) && seg[i] == '%' && seg[i+1] == '2' && (seg[i+2] == 'e' || seg[i+2] == 'E') {
			i += 3
		} else {
			return false
		}
		dots++
	}
	return dots <= 2
}

// glob matches seg against literal parts with one non-empty parameter
// between each pair: parts {"", ".json"} is "{x}.json".
func glob(parts []string, seg []byte) bool {
	first, last := parts[0], parts[len(parts)-1]
	if len(seg) < len(first)+len(last) || string(seg[:len(first)]) != first || string(seg[len(seg)-len(last):]) != last {
		return false
	}
	seg = seg[len(first) : len(seg)-len(last)]
	// Each middle literal is matched at its first occurrence after at least
	// one parameter byte; this is leftmost matching, enough for templates
	// whose separators do not occur in the values.
	for _, lit := range parts[1 : len(parts)-1] {
		if len(seg) == 0 {
			return false
		}
		i := indexFrom(seg, lit, 1)
		if i < 0 {
			return false
		}
		seg = seg[i+len(lit):]
	}
	return len(seg) > 0
}

func indexFrom(s []byte, lit string, from int) int {
	for i := from; i+len(lit) <= len(s); i++ {
		if string(s[i:i+len(lit)]) == lit {
			return i
		}
	}
	return -1
}

// Each calls fn with every route's method and value, for reports about the
// table (the admin listener's); the order is unspecified.
func (r *Router[T]) Each(fn func(method string, value T)) {
	r.root.each(fn)
}

func (n *node[T]) each(fn func(string, T)) {
	for _, m := range n.methods {
		fn(m.name, m.value)
	}
	for _, c := range n.static {
		c.each(fn)
	}
	for _, p := range n.patterns {
		p.each(fn)
	}
	if n.param != nil {
		n.param.each(fn)
	}
}
