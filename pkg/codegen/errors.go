package codegen

import (
	"strconv"
	"strings"
)

// DefinitionError is a problem in one API definition, located as precisely
// as the input allows. Its text reads
//
//	api_definitions/petstore.yaml:12: GET /pet/{petId}: <what is wrong>; <what to do>
//
// with the line left out when it is not known and the place left out when
// the problem concerns the file as a whole.
type DefinitionError struct {
	// File names the definition as the user knows it, e.g. "api_definitions/petstore.yaml".
	File string
	// Line is 1-based; 0 means unknown.
	Line int
	// Place is where in the API the problem is: "API level", "GET /pet/{petId}", ...
	Place string
	// Msg says what is wrong, Hint what to do about it.
	Msg  string
	Hint string
	// Err is the underlying cause, if any (a parser or validator error).
	Err error
}

func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
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

func (e *DefinitionError) Unwrap() error { return e.Err }

// Warning is something the build accepts but the user should know about.
type Warning struct {
	File string
	// Line is 1-based; 0 means unknown.
	Line int
	Msg  string
}

func (w Warning) String() string {
	if w.Line > 0 {
		return w.File + ":" + strconv.Itoa(w.Line) + ": " + w.Msg
	}
	return w.File + ": " + w.Msg
}
