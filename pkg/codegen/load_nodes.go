package codegen

import (
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
