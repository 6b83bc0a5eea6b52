package definition

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v4"
)

// micro-gw 3.x read definitions with a parser that reported problems and
// carried on, and its users have files kin-openapi refuses to load. Before
// kin-openapi reads a document, lenient rewrites those parts of its text,
// each with a warning naming its line:
//
//   - a security requirement written as a string, "- petstore_auth:[]",
//     becomes the object {"petstore_auth": []};
//   - scopes given as a scalar, "- default: admin", become a list;
//   - a $ref to a schema that does not exist becomes an empty schema (one
//     that accepts anything): the gateway routes without schemas.
//
// A $ref of another kind that leads nowhere, or to another file, is an
// error, and is also neutralized so that loading goes on to report the rest.
//
// The text is edited in place, each edit within its line, so that every
// line kin-openapi reports is still the user's; columns on an edited line
// are mapped back (originalColumn).

// edit replaces data[start:end] with text; line and col (in runes) locate
// start in the original, and shift is the change in runes the edit makes.
type edit struct {
	line, col  int
	start, end int
	text       string
	shift      int
}

// lenient returns data with the rewrites above applied.
func (p *parser) lenient(data []byte) []byte {
	var edits []edit
	loc := newLocator(data)
	p.legacySecurity(loc, &edits)
	p.checkRefs(loc, &edits)
	if len(edits) == 0 {
		return data
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	out := make([]byte, 0, len(data)+64)
	last := 0
	for _, e := range edits {
		if e.start < last {
			continue // overlapping: keep the first
		}
		out = append(out, data[last:e.start]...)
		out = append(out, e.text...)
		last = e.end
		p.edits = append(p.edits, e)
	}
	return append(out, data[last:]...)
}

// originalColumn maps a column that kin-openapi reports on the edited text
// back to the user's text.
func (p *parser) originalColumn(line, col int) int {
	for _, e := range p.edits {
		if e.line == line && e.col < col {
			col -= e.shift
		}
	}
	return col
}

// replace records an edit replacing the scalar n with text; it reports
// false when the scalar's extent in the text cannot be known (a block
// scalar, or a plain scalar spanning lines).
func (p *parser) replace(loc *locator, edits *[]edit, n *yaml.Node, text string) bool {
	start, end, ok := loc.scalar(n)
	if !ok {
		return false
	}
	*edits = append(*edits, edit{
		line: n.Line, col: n.Column, start: start, end: end, text: text,
		shift: utf8.RuneCountInString(text) - utf8.RuneCount(loc.data[start:end]),
	})
	return true
}

// legacySecurity rewrites the security requirements older tools wrote as
// strings, or with scalar scopes, at document and operation level.
func (p *parser) legacySecurity(loc *locator, edits *[]edit) {
	for _, sec := range p.securityLists() {
		if sec.list.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range sec.list.Content {
			item = deref(item)
			switch item.Kind {
			case yaml.ScalarNode:
				if item.ShortTag() != "!!str" {
					continue
				}
				name, scopes := parseLegacyRequirement(item.Value)
				obj, _ := json.Marshal(map[string][]string{name: scopes})
				if p.replace(loc, edits, item, string(obj)) {
					p.warn(item, "%ssecurity requirement %q is a string; read as {%s: [%s]}: write it as an object, \"- %s: [%s]\" (a space after the colon)",
						sec.prefix(), item.Value, name, strings.Join(scopes, ", "), name, strings.Join(scopes, ", "))
				}
			case yaml.MappingNode:
				for _, kv := range pairs(item) {
					if kv.val.Kind != yaml.ScalarNode || kv.val.ShortTag() == "!!null" {
						continue
					}
					scope, _ := json.Marshal(kv.val.Value) // JSON is YAML: a list of one string
					if p.replace(loc, edits, kv.val, "["+string(scope)+"]") {
						p.warn(kv.val, "%sthe scopes of security scheme %q are the scalar %q; read as the list [%s]: write a list, %s: [%s]",
							sec.prefix(), kv.key.Value, kv.val.Value, kv.val.Value, kv.key.Value, kv.val.Value)
					}
				}
			}
		}
	}
}

// securityList is one security requirement list and where it is.
type securityList struct {
	key, list *yaml.Node
	// place is "GET /pet" for an operation's, "" for the document's.
	place string
}

func (s securityList) prefix() string {
	if s.place == "" {
		return ""
	}
	return s.place + ": "
}

// securityLists finds the document's security list and every operation's.
func (p *parser) securityLists() []securityList {
	var out []securityList
	if e := get(p.root, "security"); e.key != nil {
		out = append(out, securityList{key: e.key, list: e.val})
	}
	for _, path := range pairs(get(p.root, "paths").val) {
		item := p.followRef(path.val)
		for _, op := range pairs(item) {
			m := strings.ToUpper(op.key.Value)
			if !slices.Contains(methods, m) || op.key.Value != strings.ToLower(m) {
				continue
			}
			if e := get(op.val, "security"); e.key != nil {
				out = append(out, securityList{key: e.key, list: e.val, place: m + " " + showPath(path.key.Value)})
			}
		}
	}
	return out
}

// parseLegacyRequirement reads "name", "name:[]", "name:[a, b]" or "name:a".
func parseLegacyRequirement(s string) (name string, scopes []string) {
	name, rest, _ := strings.Cut(s, ":")
	name, rest = strings.TrimSpace(name), strings.TrimSpace(rest)
	rest = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]")
	scopes = []string{}
	for _, sc := range strings.Split(rest, ",") {
		if sc = strings.Trim(strings.TrimSpace(sc), `"'`); sc != "" {
			scopes = append(scopes, sc)
		}
	}
	return name, scopes
}

// refKinds names the component kind a local $ref points at, by its prefix.
var refKinds = []struct{ prefix, kind string }{
	{"#/components/schemas/", "schema"},
	{"#/definitions/", "schema"},
	{"#/components/parameters/", "parameter"},
	{"#/parameters/", "parameter"},
	{"#/components/responses/", "response"},
	{"#/responses/", "response"},
	{"#/components/requestBodies/", "request body"},
	{"#/components/headers/", "header"},
	{"#/components/examples/", "example"},
	{"#/components/links/", "link"},
	{"#/components/callbacks/", "callback"},
	{"#/components/securitySchemes/", "security scheme"},
	{"#/components/pathItems/", "path item"},
	{"#/paths/", "path item"},
}

// refKind returns the kind of component ref points at ("" when unknown).
func refKind(ref string) string {
	for _, k := range refKinds {
		if strings.HasPrefix(ref, k.prefix) {
			return k.kind
		}
	}
	return ""
}

// neutralRefKey replaces "$ref" in a reference that leads nowhere: an
// extension, which every OpenAPI object may carry and which means nothing,
// so the object reads as empty.
const neutralRefKey = "x-micro-gw-unresolved-ref"

// checkRefs finds every $ref of the document and checks that it resolves
// inside it. One to a missing schema is a warning, any other an error;
// each is neutralized (its "$ref" key renamed) so that kin-openapi loads
// the rest. References are reported as written, so a Swagger 2.0 file
// names #/definitions/..., not the OpenAPI 3 path it is converted to.
func (p *parser) checkRefs(loc *locator, edits *[]edit) {
	reported := map[string]bool{}
	resolves := map[string]bool{}
	idx := keyIndex{}
	walkRefs(p.root, false, func(obj *yaml.Node, key, val *yaml.Node) {
		ref := val.Value
		ok, seen := resolves[ref]
		if !seen {
			if strings.HasPrefix(ref, "#") {
				_, _, ok = followPointer(p.root, ref, idx.get)
			}
			resolves[ref] = ok
		}
		if ok {
			return
		}
		neutral := ""
		if start, end, ok := loc.scalar(key); ok {
			if tok := string(loc.data[start:end]); strings.Contains(tok, "$ref") {
				neutral = strings.Replace(tok, "$ref", neutralRefKey, 1)
			}
		}
		if neutral == "" || !p.replace(loc, edits, key, neutral) {
			// Cannot rewrite it (an unusual spelling of the key): an error
			// here, since kin-openapi will refuse the document.
			p.collect(p.fail(key, "", fmt.Sprintf("$ref %q does not resolve", ref), "define what it points at, or correct the reference"))
			return
		}
		// kin-openapi places the emptied object at its key, or at the object.
		for _, n := range []*yaml.Node{obj, key, p.keyOf(obj)} {
			if n != nil {
				p.neutralized[[2]int{n.Line, n.Column}] = true
			}
		}
		kind := refKind(ref)
		switch {
		case !strings.HasPrefix(ref, "#"):
			p.collect(p.fail(key, "", fmt.Sprintf("$ref %q points into another file, which micro-gw does not read", ref),
				"references must point inside the same file (#/...); copy the referenced part in"))
		case kind == "schema":
			if !reported[ref] {
				reported[ref] = true
				p.warn(key, "$ref %q does not resolve: there is no such schema; read as an empty schema (any value): define it, or correct the reference", ref)
			}
		default:
			what := "nothing"
			if kind != "" {
				what = "no such " + kind
			}
			p.collect(p.fail(key, "", fmt.Sprintf("$ref %q does not resolve: there is %s", ref, what), "define it, or correct the reference"))
		}
	})
}

// dataKeys hold values (examples, defaults, extensions), not definitions:
// a "$ref" inside them is data.
var dataKeys = map[string]bool{"example": true, "default": true, "enum": true, "const": true, "value": true, "externalValue": true}

// nameMaps are the keys whose value maps names to definitions: their keys
// are names, never keywords (a property may be called "example", a
// response "default").
var nameMaps = map[string]bool{
	"properties": true, "patternProperties": true, "definitions": true, "$defs": true, "dependentSchemas": true,
	"schemas": true, "parameters": true, "responses": true, "requestBodies": true, "headers": true, "securitySchemes": true,
	"securityDefinitions": true, "examples": true, "links": true, "callbacks": true, "pathItems": true, "paths": true,
	"webhooks": true, "content": true, "encoding": true, "variables": true,
}

// walkRefs calls fn with the object, key and value of every "$ref":
// "<string>" of the tree outside data. names tells that n's keys are names.
func walkRefs(n *yaml.Node, names bool, fn func(obj, key, val *yaml.Node)) {
	n = deref(n)
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind != yaml.AliasNode {
				walkRefs(c, false, fn)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				continue // walked where it is defined
			}
			switch {
			case names:
				walkRefs(v, false, fn)
			case k.Value == "$ref":
				if v.Kind == yaml.ScalarNode {
					fn(n, k, v)
				}
			case dataKeys[k.Value] || strings.HasPrefix(k.Value, "x-"):
			case k.Value == "examples" && v.Kind == yaml.SequenceNode:
				// JSON Schema examples: data
			default:
				walkRefs(v, nameMaps[k.Value], fn)
			}
		}
	}
}

// locator finds the bytes of a node in the text it was parsed from.
type locator struct {
	data []byte
	// lineStarts holds the offset at which each line starts.
	lineStarts []int
}

func newLocator(data []byte) *locator {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &locator{data: data, lineStarts: starts}
}

// offset returns the byte offset of a 1-based line and rune column.
func (l *locator) offset(line, col int) (int, bool) {
	if line < 1 || line > len(l.lineStarts) || col < 1 {
		return 0, false
	}
	off := l.lineStarts[line-1]
	for i := 1; i < col; i++ {
		if off >= len(l.data) || l.data[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(l.data[off:])
		off += size
	}
	return off, true
}

// scalar returns the extent of a scalar node's token in the text: quoted
// or plain, on one line.
func (l *locator) scalar(n *yaml.Node) (start, end int, ok bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, 0, false
	}
	start, ok = l.offset(n.Line, n.Column)
	if !ok {
		return 0, 0, false
	}
	rest := l.data[start:]
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		for i := 1; i < len(rest) && rest[i] != '\n'; i++ {
			switch rest[i] {
			case '\\':
				i++
			case '"':
				return start, start + i + 1, true
			}
		}
	case yaml.SingleQuotedStyle:
		for i := 1; i < len(rest) && rest[i] != '\n'; i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					i++
					continue
				}
				return start, start + i + 1, true
			}
		}
	case 0:
		if strings.HasPrefix(string(rest[:min(len(rest), len(n.Value))]), n.Value) && !strings.Contains(n.Value, "\n") {
			return start, start + len(n.Value), true
		}
	}
	return 0, 0, false
}

// keyOf returns the key whose value is n, or nil (the root, a list item).
func (p *parser) keyOf(n *yaml.Node) *yaml.Node {
	if p.keys == nil {
		p.keys = map[*yaml.Node]*yaml.Node{}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					p.keys[n.Content[i+1]] = n.Content[i]
				}
			}
			for _, c := range n.Content {
				if c.Kind != yaml.AliasNode {
					walk(c)
				}
			}
		}
		walk(p.root)
	}
	return p.keys[n]
}
