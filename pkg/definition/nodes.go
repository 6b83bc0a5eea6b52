package definition

import (
	"net/url"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// The raw document is also kept as a YAML node tree (JSON is YAML), so that
// extensions are read with the line of every key and value.

// deref follows YAML aliases and unwraps a document node.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

// pair is one key: value entry of a mapping.
type pair struct {
	key, val *yaml.Node
}

// pairs lists the entries of a mapping node (nil for anything else).
func pairs(n *yaml.Node) []pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	ps := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		ps = append(ps, pair{key: n.Content[i], val: deref(n.Content[i+1])})
	}
	return ps
}

// get returns the entry named key of a mapping node, or a zero pair.
// It allocates nothing: it runs for every key the loader reads.
func get(n *yaml.Node, key string) pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return pair{}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return pair{key: n.Content[i], val: deref(n.Content[i+1])}
		}
	}
	return pair{}
}

// index maps the keys of a mapping node to their entries (the first of a
// repeated key, as get finds it). Looking up every path of a large paths
// object with get would scan it once per path: quadratic.
func index(n *yaml.Node) map[string]pair {
	ps := pairs(n)
	m := make(map[string]pair, len(ps))
	for _, p := range ps {
		if _, dup := m[p.key.Value]; !dup {
			m[p.key.Value] = p
		}
	}
	return m
}

// lookup follows keys from n; it returns nil when one is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k).val
		if n == nil {
			return nil
		}
	}
	return n
}

// lineOf returns n's line, or 0 for a nil node.
func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// kindName describes a node's type for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "empty"
		case "!!str":
			return "a string"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a scalar"
	}
	return "not a value"
}

// lineNode stands for a position known only by its line (0: unknown).
func lineNode(line int) *yaml.Node {
	if line <= 0 {
		return nil
	}
	return &yaml.Node{Line: line}
}

// position returns the line and column of n and, in a one-line file, its
// JSON pointer.
func (p *parser) position(n *yaml.Node) (line, col int, pointer string) {
	if n == nil {
		return 0, 0, ""
	}
	if p.pointers != nil && n.Column > 0 {
		pointer = p.pointers[[2]int{n.Line, n.Column}]
	}
	return n.Line, n.Column, pointer
}

// pointerIndex maps the position of every key and value of the tree to the
// JSON pointer of its element ("#/paths/~1pet/get"), the outermost first.
// It is built only for one-line files, where a line says nothing.
func pointerIndex(root *yaml.Node) map[[2]int]string {
	idx := map[[2]int]string{}
	add := func(n *yaml.Node, ptr string) {
		k := [2]int{n.Line, n.Column}
		if _, ok := idx[k]; !ok {
			idx[k] = ptr
		}
	}
	var walk func(n *yaml.Node, ptr string)
	walk = func(n *yaml.Node, ptr string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				child := ptr + "/" + escapePointer(k.Value)
				add(k, child)
				add(v, child)
				walk(v, child)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				child := ptr + "/" + strconv.Itoa(i)
				add(c, child)
				walk(c, child)
			}
		}
	}
	walk(root, "#")
	return idx
}

// escapePointer escapes one JSON pointer token (RFC 6901).
func escapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// followPointer walks a JSON pointer ("/a/0/b" or "#/a/0/b") from root. It
// returns the key node of the last member (nil for a list item) and the
// node it names; ok is false when a step does not exist. Tokens are
// unescaped (~1, ~0) and, as in a URI fragment, percent-decoded.
func followPointer(root *yaml.Node, ptr string, get func(*yaml.Node, string) pair) (key, val *yaml.Node, ok bool) {
	ptr = strings.TrimPrefix(ptr, "#")
	val = deref(root)
	if ptr == "" {
		return nil, val, val != nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, nil, false
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		if strings.Contains(tok, "%") {
			if u, err := url.PathUnescape(tok); err == nil {
				tok = u
			}
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch {
		case val == nil:
			return nil, nil, false
		case val.Kind == yaml.MappingNode:
			e := get(val, tok)
			if e.key == nil {
				return nil, nil, false
			}
			key, val = e.key, e.val
		case val.Kind == yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(val.Content) {
				return nil, nil, false
			}
			key, val = nil, deref(val.Content[i])
		default:
			return nil, nil, false
		}
	}
	return key, val, val != nil
}

// pointerNode returns the node to point at for a JSON pointer: the key of
// its last member, or the list item; nil when it does not exist.
func (p *parser) pointerNode(ptr string) *yaml.Node {
	key, val, ok := followPointer(p.root, ptr, get)
	switch {
	case !ok:
		return nil
	case key != nil:
		return key
	}
	return val
}

// keyIndex looks keys up in mappings, indexing each large mapping the first
// time, so that resolving many references into components.schemas costs
// one map lookup each rather than a scan of every schema.
type keyIndex map[*yaml.Node]map[string]pair

// get is get with an index for mappings of more than a few entries.
func (idx keyIndex) get(n *yaml.Node, key string) pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || len(n.Content) < 32 {
		return get(n, key)
	}
	m, ok := idx[n]
	if !ok {
		m = make(map[string]pair, len(n.Content)/2)
		for _, kv := range pairs(n) {
			if _, dup := m[kv.key.Value]; !dup {
				m[kv.key.Value] = kv
			}
		}
		idx[n] = m
	}
	return m[key]
}
