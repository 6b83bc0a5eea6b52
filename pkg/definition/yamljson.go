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
// the exact way, which is right for every document, only slower.
//
// The exact way is superlinear for YAML: go.yaml.in/yaml/v4 compares every
// pair of keys of a mapping it decodes for duplicates (checkMappingKeys), so a
// components.schemas of n entries costs n²/2 comparisons; 30,000 operations
// took 18 s, a third of it there.
//
// What kin-openapi's decode does (openapi3/native_yaml.go), and this does the
// same: a string or decimal key names a member by its text; an application's own tag
// (!md) and a timestamp are the text they spell; integers are numbers, and
// JSON has one kind of number. What it leaves out, ok false: anchors,
// aliases and merge keys; duplicate keys, and keys other than strings and
// decimal integers; !!binary and
// other tags; numbers JSON cannot spell as written (0x2A, 4_2, .5, .inf);
// booleans YAML 1.1 spells otherwise (yes, on).
//
// root is the top-level mapping.
func yamlAsJSON(root *yaml.Node) (out []byte, ok bool) {
	w := &jsonWriter{buf: make([]byte, 0, 1<<16)}
	if !w.node(root) {
		return nil, false
	}
	return w.buf, true
}

type jsonWriter struct {
	buf []byte
}

var (
	jsonInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	jsonNumber  = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)
)

// node writes n.
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

func (w *jsonWriter) mapping(n *yaml.Node) bool {
	var seen map[string]bool
	if len(n.Content) > 16 {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	w.buf = append(w.buf, '{')
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !plainKey(k) {
			return false
		}
		if seen != nil {
			if seen[k.Value] {
				return false
			}
			seen[k.Value] = true
		} else {
			for j := 0; j < i; j += 2 {
				if n.Content[j].Value == k.Value {
					return false
				}
			}
		}
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.text(k.Value)
		w.buf = append(w.buf, ':')
		if !w.node(v) {
			return false
		}
	}
	w.buf = append(w.buf, '}')
	return true
}

func (w *jsonWriter) scalar(n *yaml.Node) bool {
	tag := n.ShortTag()
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

// plainKey reports whether k names a member by its text alone, as
// kin-openapi's decode names it, and no other spelling of k's value can
// name the same member: a string, or an integer written in decimal
// without leading zeros (200, not 0200, which go-yaml finds equal to 200).
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

// text writes s as a JSON string.
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
