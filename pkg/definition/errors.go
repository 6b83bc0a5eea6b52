package definition

import (
	"strconv"
	"strings"
	"unicode"
)

// Error is a problem in one API definition, located as precisely
// as the input allows. Its text reads
//
//	api_definitions/petstore.yaml:12: GET /pet/{petId}: <what is wrong>; <what to do>
//
// with the line left out when it is not known and the place left out when
// the problem concerns the file as a whole. In a file written on one line
// (minified JSON) the line says little, so the JSON pointer of the element
// follows it: "api.json:1 (#/paths/~1pet/get): ...".
type Error struct {
	// File names the definition as the user knows it, e.g. "api_definitions/petstore.yaml".
	File string
	// Line is 1-based; 0 means unknown.
	Line int
	// Pointer is the JSON pointer of the element, set for one-line files only.
	Pointer string
	// col is the column, which orders problems on one line.
	col int
	// Place is where in the API the problem is: "API level", "GET /pet/{petId}", ...
	Place string
	// Msg says what is wrong, Hint what to do about it.
	Msg  string
	Hint string
	// Err is the underlying cause, if any (a parser or validator error).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	writePosition(&b, e.File, e.Line, e.Pointer)
	if e.Place != "" {
		b.WriteString(e.Place)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Warning is something the build accepts but the user should know about:
// a problem that does not change what the gateway does. Strict mode
// (micro-gw build --strict) refuses it as an error.
type Warning struct {
	File string
	// Line is 1-based; 0 means unknown.
	Line int
	// Pointer is the JSON pointer of the element, set for one-line files only.
	Pointer string
	Msg     string
	// col is the column, which orders problems on one line.
	col int
}

func (w Warning) String() string {
	var b strings.Builder
	writePosition(&b, w.File, w.Line, w.Pointer)
	b.WriteString(w.Msg)
	return b.String()
}

// writePosition writes "file:line (pointer): " with what is known of them.
func writePosition(b *strings.Builder, file string, line int, pointer string) {
	b.WriteString(file)
	if line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(line))
	}
	if pointer != "" {
		b.WriteString(" (")
		b.WriteString(pointer)
		b.WriteString(")")
	}
	b.WriteString(": ")
}

// showPath returns p as written, or quoted when it holds characters that
// would garble a message.
func showPath(p string) string {
	for _, r := range p {
		if !unicode.IsPrint(r) {
			return strconv.Quote(p)
		}
	}
	return p
}
