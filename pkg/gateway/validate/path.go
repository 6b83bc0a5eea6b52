package validate

import (
	"net/url"
	"strings"
)

// segment is one "/"-separated part of a path template: literal texts
// with a parameter between each pair ("{name}.json" is "", ".json" around
// name). A literal segment has no names.
type segment struct {
	lits  []string
	names []string
}

// splitTemplate splits a path template into its segments.
func splitTemplate(t string) []segment {
	parts := strings.Split(strings.TrimPrefix(t, "/"), "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		var s segment
		for {
			open := strings.IndexByte(p, '{')
			end := strings.IndexByte(p, '}')
			if open < 0 || end < open {
				break
			}
			s.lits = append(s.lits, p[:open])
			s.names = append(s.names, p[open+1:end])
			p = p[end+1:]
		}
		s.lits = append(s.lits, p)
		segs[i] = s
	}
	return segs
}

// pathParams returns the values of the template's parameters in path, the
// request path as received (escapes decoded here, per value). It reports
// false for a malformed escape. A path the template does not fit leaves
// parameters out, and openapi3filter then names the missing one.
func (v *Validator) pathParams(path []byte) (map[string]string, bool) {
	params := map[string]string{}
	rest := strings.TrimPrefix(string(path), "/")
	for i, s := range v.segments {
		var part string
		part, rest, _ = strings.Cut(rest, "/")
		if i == len(v.segments)-1 && rest != "" {
			return params, true // longer than the template
		}
		if len(s.names) == 0 {
			continue
		}
		if !s.match(part, params) {
			return params, true
		}
	}
	for k, val := range params {
		if strings.IndexByte(val, '%') >= 0 {
			u, err := url.PathUnescape(val)
			if err != nil {
				return nil, false
			}
			params[k] = u
		}
	}
	return params, true
}

// match puts the values of s's parameters in part into params: each one
// takes at least one byte, then the text up to the first occurrence of the
// literal after it (the last one, up to the segment's literal suffix), as
// the router splits the segment when it routes the request. It reports whether part
// fits s.
func (s segment) match(part string, params map[string]string) bool {
	p, ok := strings.CutPrefix(part, s.lits[0])
	if !ok {
		return false
	}
	for i, name := range s.names {
		next := s.lits[i+1]
		var val string
		switch {
		case i == len(s.names)-1:
			if val, ok = strings.CutSuffix(p, next); !ok {
				return false
			}
			p = ""
		case next == "":
			return false // two parameters side by side: no boundary
		default:
			// As the router matches (router.glob): the literal's first
			// occurrence after at least one byte of the parameter.
			if p == "" {
				return false
			}
			j := strings.Index(p[1:], next)
			if j < 0 {
				return false
			}
			j++
			val, p = p[:j], p[j+len(next):]
		}
		params[name] = val
	}
	return true
}
