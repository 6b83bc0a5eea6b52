package definition

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v4"
)

// collapseRefChains returns data with every local $ref whose target is itself
// only a $ref pointed straight at the end of that chain, or data itself when
// there is no such chain. The tree root must be data's parse.
//
// kin-openapi's loader (v0.153) resolves a $ref to a $ref through a copy of
// the target, so the target itself stays unresolved, and resolves it again
// for every $ref that reaches it: a chain of n costs n², and 20,000 links
// took minutes. A $ref object means what its target means (its siblings, if
// any, are kept), so pointing it at the chain's end changes nothing but the
// loader's work. Only the $ref strings change, within their lines, so every
// line number kin-openapi reports stays the user's. Chains that end nowhere
// or loop are left as written, for the loader to report.
func collapseRefChains(root *yaml.Node, data []byte) []byte {
	c := &refChains{root: root, indexes: map[*yaml.Node]map[string]pair{}, end: map[string]string{}}
	var edits []refEdit
	walkRefs(root, false, func(_, _, n *yaml.Node) {
		if !strings.HasPrefix(n.Value, "#/") {
			return
		}
		if end := c.chainEnd(n.Value); end != "" && end != n.Value {
			edits = append(edits, refEdit{n, end})
		}
	})
	if len(edits) == 0 {
		return data
	}
	return applyRefEdits(data, edits)
}

// refChains follows local references in the raw tree.
type refChains struct {
	root    *yaml.Node
	indexes map[*yaml.Node]map[string]pair
	// end memoizes chainEnd: "" for a chain that ends nowhere or loops.
	end map[string]string
}

// chainEnd returns the last reference of the chain that starts with ref:
// ref itself when its target is not only a $ref, "" when the chain ends
// nowhere or loops.
func (c *refChains) chainEnd(ref string) string {
	if e, ok := c.end[ref]; ok {
		return e
	}
	var chain []string
	seen := map[string]bool{} // each reference is followed once: then it is in c.end
	end := ""
	for cur := ref; ; {
		if e, ok := c.end[cur]; ok {
			end = e
			break
		}
		if seen[cur] {
			break // a loop
		}
		seen[cur] = true
		chain = append(chain, cur)
		target := c.target(cur)
		if target == nil {
			break
		}
		next := onlyRef(target)
		if next == "" {
			end = cur
			break
		}
		cur = next
	}
	for _, r := range chain {
		c.end[r] = end
	}
	return end
}

// target finds the node a local reference "#/a/b~1c" points at, or nil.
func (c *refChains) target(ref string) *yaml.Node {
	if strings.Contains(ref, "%") {
		return nil // percent-encoded: left for the loader to decode
	}
	n := c.root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		n = deref(n)
		switch {
		case n == nil:
			return nil
		case n.Kind == yaml.MappingNode:
			idx, ok := c.indexes[n]
			if !ok {
				idx = index(n)
				c.indexes[n] = idx
			}
			n = idx[tok].val
		case n.Kind == yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return deref(n)
}

// onlyRef returns the reference of a node that is {"$ref": "#/..."} and
// nothing else, or "".
func onlyRef(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 || n.Content[0].Value != "$ref" {
		return ""
	}
	v := deref(n.Content[1])
	if v == nil || v.Kind != yaml.ScalarNode || !strings.HasPrefix(v.Value, "#/") {
		return ""
	}
	return v.Value
}

// refEdit replaces the $ref value node with ref.
type refEdit struct {
	node *yaml.Node
	ref  string
}

// applyRefEdits writes each edited reference as a double-quoted string in
// place of the scalar as written. A scalar whose text is not found where
// the parser placed it is left alone: that reference only stays slow.
func applyRefEdits(data []byte, edits []refEdit) []byte {
	lines := lineStarts(data)
	type span struct {
		from, to int
		text     []byte
	}
	var spans []span
	for _, e := range edits {
		from, ok := offsetOf(data, lines, e.node.Line, e.node.Column)
		if !ok {
			continue
		}
		to, ok := scalarEnd(data, from, e.node)
		if !ok {
			continue
		}
		text, err := json.Marshal(e.ref)
		if err != nil {
			continue
		}
		spans = append(spans, span{from, to, text})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var b bytes.Buffer
	b.Grow(len(data))
	last := 0
	for _, s := range spans {
		if s.from < last {
			continue
		}
		b.Write(data[last:s.from])
		b.Write(s.text)
		last = s.to
	}
	b.Write(data[last:])
	return b.Bytes()
}

// lineStarts returns the offset of each line, counting line breaks as YAML
// does: \n, \r\n, a lone \r, and U+0085, U+2028, U+2029.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '\n':
			starts = append(starts, i+1)
		case data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
			starts = append(starts, i+1)
		case data[i] == 0xc2 && i+1 < len(data) && data[i+1] == 0x85:
			starts = append(starts, i+2)
			i++
		case data[i] == 0xe2 && i+2 < len(data) && data[i+1] == 0x80 && (data[i+2] == 0xa8 || data[i+2] == 0xa9):
			starts = append(starts, i+3)
			i += 2
		}
	}
	return starts
}

// offsetOf turns a 1-based line and column (in characters) into an offset.
func offsetOf(data []byte, lines []int, line, col int) (int, bool) {
	if line < 1 || line > len(lines) || col < 1 {
		return 0, false
	}
	off := lines[line-1]
	if line == 1 && bytes.HasPrefix(data, []byte("\ufeff")) {
		off += 3
	}
	for range col - 1 {
		if off >= len(data) {
			return 0, false
		}
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	return off, true
}

// scalarEnd returns the end of the scalar n written at data[from:], if its
// text there reads as n's value in n's style, on one line. A reference is
// always quoted: unquoted, "#/..." would start a comment.
func scalarEnd(data []byte, from int, n *yaml.Node) (int, bool) {
	rest := data[from:]
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		if len(rest) == 0 || rest[0] != '"' {
			return 0, false
		}
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '\n', '\r':
				return 0, false
			case '"':
				var v string
				if json.Unmarshal(rest[:i+1], &v) != nil || v != n.Value {
					return 0, false
				}
				return from + i + 1, true
			}
		}
	case yaml.SingleQuotedStyle:
		if len(rest) == 0 || rest[0] != '\'' {
			return 0, false
		}
		for i := 1; i < len(rest); i++ {
			switch {
			case rest[i] == '\n' || rest[i] == '\r':
				return 0, false
			case rest[i] == '\'' && i+1 < len(rest) && rest[i+1] == '\'':
				i++
			case rest[i] == '\'':
				if strings.ReplaceAll(string(rest[1:i]), "''", "'") != n.Value {
					return 0, false
				}
				return from + i + 1, true
			}
		}
	}
	return 0, false
}
