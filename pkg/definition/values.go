package definition

import (
	"fmt"
	"math"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// Readers of the scalar and list values that extensions hold, each with
// the message that says what to write instead.

// count reads a whole number from 0 to MaxInt32.
func (p *parser) count(kv pair, place string) (int, error) {
	var v int64
	if kv.val.Kind != yaml.ScalarNode || kv.val.ShortTag() != "!!int" || kv.val.Decode(&v) != nil || v < 0 || v > math.MaxInt32 {
		return 0, p.fail(kv.val, place, fmt.Sprintf("%s must be a whole number from 0 to %d, got %q", kv.key.Value, math.MaxInt32, kv.val.Value), "write e.g. "+kv.key.Value+": 1000")
	}
	return int(v), nil
}

// fraction reads a number from 0 to max.
func (p *parser) fraction(kv pair, place string, max float64) (float64, error) {
	var v float64
	tag := kv.val.ShortTag()
	if kv.val.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || kv.val.Decode(&v) != nil || math.IsNaN(v) || v < 0 || v > max {
		return 0, p.fail(kv.val, place, fmt.Sprintf("%s must be a number from 0 to %g, got %q", kv.key.Value, max, kv.val.Value), "write e.g. "+kv.key.Value+": 0.5")
	}
	return v, nil
}

// statusCodes reads a list of HTTP status codes (100..599).
func (p *parser) statusCodes(kv pair, place string) ([]int, error) {
	hint := "list HTTP status codes, e.g. statusCodes: [500, 502, 503]"
	if kv.val.Kind != yaml.SequenceNode {
		return nil, p.fail(kv.key, place, "statusCodes must be a list, got "+kindName(kv.val), hint)
	}
	codes := []int{}
	for _, it := range kv.val.Content {
		it = deref(it)
		var v int
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!int" || it.Decode(&v) != nil || v < 100 || v > 599 {
			return nil, p.fail(it, place, fmt.Sprintf("status code %q is not a number from 100 to 599", it.Value), hint)
		}
		codes = append(codes, v)
	}
	return codes, nil
}

func (p *parser) boolean(kv pair, place string) (bool, error) {
	var v bool
	if kv.val.Kind != yaml.ScalarNode || kv.val.ShortTag() != "!!bool" || kv.val.Decode(&v) != nil {
		return false, p.fail(kv.val, place, fmt.Sprintf("%s must be true or false, got %q", kv.key.Value, kv.val.Value), "write "+kv.key.Value+": true")
	}
	return v, nil
}

func (p *parser) stringList(kv pair, place string) ([]string, error) {
	hint := "write a list, e.g. " + kv.key.Value + ": [\"a\", \"b\"]"
	if kv.val.Kind != yaml.SequenceNode {
		return nil, p.fail(kv.key, place, kv.key.Value+" must be a list of strings, got "+kindName(kv.val), hint)
	}
	out := []string{}
	for _, it := range kv.val.Content {
		it = deref(it)
		if it.Kind != yaml.ScalarNode || it.ShortTag() == "!!null" {
			return nil, p.fail(it, place, kv.key.Value+" must hold strings, got "+kindName(it), hint)
		}
		if strings.ContainsFunc(it.Value, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, p.fail(it, place, fmt.Sprintf("%s entry %q holds a control character, which cannot go in an HTTP header", kv.key.Value, it.Value), hint)
		}
		out = append(out, it.Value)
	}
	return out, nil
}

// warnUnknownKey warns about a key an extension object does not define.
func (p *parser) warnUnknownKey(key *yaml.Node, place string, known ...string) {
	p.warn(key, "%s: unknown key %q is ignored; did you mean %s?", place, key.Value, nearest(key.Value, known))
}

// nearest returns the candidate closest to s by edit distance, ignoring case.
func nearest(s string, candidates []string) string {
	best, bestD := "", math.MaxInt
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// field is one key of an object an extension holds, with what reads its value.
type field struct {
	name string
	read func(kv pair) error
}

// fieldNames returns the names of fields, in order.
func fieldNames(fields []field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

// readFields reads the entries of mapping n with fields, in the order they
// are written, and warns about each key that fields does not name, with
// where and the nearest name. It stops at the first error.
func (p *parser) readFields(n *yaml.Node, where string, fields ...field) error {
	for _, kv := range pairs(n) {
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == kv.key.Value })
		if i < 0 {
			p.warnUnknownKey(kv.key, where, fieldNames(fields)...)
			continue
		}
		if err := fields[i].read(kv); err != nil {
			return err
		}
	}
	return nil
}

// readObject reads the object entry e holds with fields (see readFields),
// or refuses a value of another kind, suggesting example in its place.
func (p *parser) readObject(e pair, place, example string, fields ...field) error {
	name := e.key.Value
	if e.val.Kind != yaml.MappingNode {
		return p.fail(e.key, place, name+" must be an object, got "+kindName(e.val), "write e.g. "+name+": "+example)
	}
	return p.readFields(e.val, place+": "+name, fields...)
}

// readNew reads the object entry e holds into a new T, with the fields
// that fieldsOf gives for it (see readObject).
func readNew[T any](p *parser, e pair, place, example string, fieldsOf func(*T) []field) (*T, error) {
	v := new(T)
	if err := p.readObject(e, place, example, fieldsOf(v)...); err != nil {
		return nil, err
	}
	return v, nil
}
