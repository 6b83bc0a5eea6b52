package definition

import (
	"encoding/json"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v4"
)

// yamlAsJSON writes the parser's YAML tree as the JSON document that
// kin-openapi's YAML decode reads it as, so that a clean YAML definition can
// take the fast load (cleanJSONDocument) too. ok is false for anything whose
// reading it does not reproduce exactly, and the caller then loads the text
// the exact way, which is right for every document, only slower. root is
// the top-level mapping.
//
// The exact way is superlinear for YAML: go.yaml.in/yaml/v4 compares every
// pair of keys of a mapping it decodes for duplicates (checkMappingKeys), so a
// components.schemas of n entries costs n²/2 comparisons; 30,000 operations
// took 18 s, a third of it there.
//
// What kin-openapi's decode does (openapi3/native_yaml.go), this does the
// same: a key names a member by its text; an application's own tag (!md) and
// a timestamp are the text they spell; integers are numbers, and JSON has
// one kind of number; plain yes and on are text, as go-yaml v4 reads them.
// What it declines (ok false): keys plainKeys refuses; anchors, aliases and
// merge keys; numbers JSON cannot spell as written (0x2A, 4_2, .5, .inf);
// the tags !!binary, !!set and the like; and an explicit !!null, !!bool,
// !!int or !!float tag, which go-yaml checks against the text (!!null 5 is
// an error there, not a null).
func yamlAsJSON(root *yaml.Node) (out []byte, ok bool) {
	w := &jsonWriter{buf: make([]byte, 0, 1<<16)}
	if !w.node(root) {
		return nil, false
	}
	return w.buf, true
}

// jsonWriter accumulates the JSON that yamlAsJSON writes.
type jsonWriter struct {
	buf []byte
}

var (
	jsonInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	jsonNumber  = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)
)

// node appends n as JSON; false when n is something yamlAsJSON declines
// (the buffer is then of no use).
func (w *jsonWriter) node(n *yaml.Node) bool {
	if n == nil || n.Anchor != "" {
		return false
	}
	switch n.Kind {
	case yaml.MappingNode:
		return w.mapping(n)
	case yaml.SequenceNode:
		w.buf = append(w.buf, '[')
		for i, c := range n.Content {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if !w.node(c) {
				return false
			}
		}
		w.buf = append(w.buf, ']')
		return true
	case yaml.ScalarNode:
		return w.scalar(n)
	}
	return false // an alias, or a document inside the document
}

// mapping appends mapping n as a JSON object, its members in order; false
// when its keys are not plain (plainKeys) or a value is declined.
func (w *jsonWriter) mapping(n *yaml.Node) bool {
	if !plainKeys(n) {
		return false
	}
	w.buf = append(w.buf, '{')
	for i := 0; i+1 < len(n.Content); i += 2 {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.text(n.Content[i].Value)
		w.buf = append(w.buf, ':')
		if !w.node(n.Content[i+1]) {
			return false
		}
	}
	w.buf = append(w.buf, '}')
	return true
}

// plainKeys reports whether the keys of mapping n read the same to
// encoding/json, which the fast load decodes with, as to kin-openapi's
// exact load: each a scalar that is a string or a decimal integer without
// leading zeros, none repeated, no "$ref" spelled in another case. A
// repeated key is an error to go-yaml, and a JSON document with one is
// loaded by kin-openapi with encoding/json's generic maps (the last one
// wins) where the fast load's struct decoding merges them; encoding/json
// matches "$REF" to the $ref field, kin-openapi's YAML decode keeps it as an
// unknown member. A mapping of more than 16 keys is checked with a set, a
// smaller one pair by pair, which allocates nothing.
func plainKeys(n *yaml.Node) bool {
	var seen map[string]bool
	if len(n.Content) > 2*16 {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !plainKey(k) || (k.Value != "$ref" && strings.EqualFold(k.Value, "$ref")) {
			return false
		}
		if seen != nil {
			if seen[k.Value] {
				return false
			}
			seen[k.Value] = true
			continue
		}
		for j := 0; j < i; j += 2 {
			if n.Content[j].Value == k.Value {
				return false
			}
		}
	}
	return true
}

// plainKey reports whether k names a member by its text alone, and no other
// spelling of the same text could: a string, or an integer written in
// decimal without leading zeros (200, not 0200). Other scalars (floats,
// booleans, dates) are declined only to keep the rule simple: no OpenAPI
// member is named by one.
func plainKey(k *yaml.Node) bool {
	if k.Kind != yaml.ScalarNode || k.Anchor != "" {
		return false
	}
	switch tag := k.ShortTag(); {
	case tag == "!!str":
		return true
	case tag == "!!int":
		return jsonInteger.MatchString(k.Value)
	}
	return false
}

// scalar appends scalar n as a JSON value, as kin-openapi's decode reads
// it; false for a scalar yamlAsJSON declines.
func (w *jsonWriter) scalar(n *yaml.Node) bool {
	tag := n.ShortTag()
	if n.Style&yaml.TaggedStyle != 0 {
		switch tag {
		case "!!null", "!!bool", "!!int", "!!float":
			return false // go-yaml checks the text against the tag; the exact load says what it finds
		}
	}
	switch {
	case tag == "!!str" || tag == "!!timestamp" || (strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")):
		w.text(n.Value)
	case tag == "!!null":
		w.buf = append(w.buf, "null"...)
	case tag == "!!bool":
		switch strings.ToLower(n.Value) {
		case "true", "false":
			w.buf = append(w.buf, strings.ToLower(n.Value)...)
		default:
			return false
		}
	case tag == "!!int" && jsonInteger.MatchString(n.Value), tag == "!!float" && jsonNumber.MatchString(n.Value):
		w.buf = append(w.buf, n.Value...)
	default:
		return false
	}
	return true
}

// text appends s as a JSON string.
func (w *jsonWriter) text(s string) {
	if plainJSONString(s) {
		w.buf = append(w.buf, '"')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '"')
		return
	}
	q, _ := json.Marshal(s) // a string always marshals
	w.buf = append(w.buf, q...)
}

// plainJSONString reports whether s needs no escaping in JSON.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// plainTree reports whether every mapping of the tree under n has plain
// keys (plainKeys): what the fast load of a JSON file asks of its text.
func plainTree(n *yaml.Node) bool {
	if n == nil {
		return true
	}
	if n.Kind == yaml.MappingNode && !plainKeys(n) {
		return false
	}
	for _, c := range n.Content {
		if !plainTree(c) {
			return false
		}
	}
	return true
}
