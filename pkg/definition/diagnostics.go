package definition

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Diagnostics is every problem the definitions of a build have, errors and
// warnings together, as a compiler reports them: one line each, sorted by
// file and line, and a count at the end. It is the error LoadDir, LoadFile
// and Parse return when a definition cannot be built, so that the
// user fixes everything in one round instead of one problem per build.
type Diagnostics struct {
	Errors   []*Error
	Warnings []Warning
	// Strict reports that the warnings are refused too (micro-gw build
	// --strict, or strict = true in conf/gateway.conf).
	Strict bool
}

// Error returns Lines and Summary, one per line.
func (d *Diagnostics) Error() string {
	return strings.Join(append(d.Lines(), d.Summary()), "\n")
}

// Unwrap returns the errors, so that errors.As finds a *Error.
func (d *Diagnostics) Unwrap() []error {
	errs := make([]error, len(d.Errors))
	for i, e := range d.Errors {
		errs[i] = e
	}
	return errs
}

// Lines returns one line per problem, sorted by file, line and column
// (problems of the whole file first). Warnings start with "warning: ".
func (d *Diagnostics) Lines() []string {
	type entry struct {
		file      string
		line, col int
		text      string
	}
	entries := make([]entry, 0, len(d.Errors)+len(d.Warnings))
	for _, e := range d.Errors {
		entries = append(entries, entry{e.File, e.Line, e.col, e.Error()})
	}
	for _, w := range d.Warnings {
		entries = append(entries, entry{w.File, w.Line, w.col, "warning: " + w.String()})
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.file, b.file), cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
	})
	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = e.text
	}
	return lines
}

// Summary counts the problems, "2 errors, 3 warnings", and says why
// warnings failed the build in strict mode.
func (d *Diagnostics) Summary() string {
	s := plural(len(d.Errors), "error")
	if len(d.Warnings) > 0 {
		s += ", " + plural(len(d.Warnings), "warning")
		if d.Strict {
			s += "; strict mode (--strict, or strict = true in conf/gateway.conf) refuses warnings too"
		}
	}
	return s
}

// add appends the problems of err: a *Diagnostics is merged, a
// *Error added; anything else is wrapped as a problem of file.
func (d *Diagnostics) add(file string, err error) {
	var diag *Diagnostics
	var de *Error
	switch {
	case err == nil:
	case errors.As(err, &diag):
		d.Errors = append(d.Errors, diag.Errors...)
		d.Warnings = append(d.Warnings, diag.Warnings...)
	case errors.As(err, &de):
		d.Errors = append(d.Errors, de)
	default:
		d.Errors = append(d.Errors, &Error{File: file, Msg: err.Error(), Err: err})
	}
}

// sortWarnings orders warnings by file, line and column.
func sortWarnings(ws []Warning) {
	slices.SortStableFunc(ws, func(a, b Warning) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.col, b.col))
	})
}

func plural(n int, word string) string {
	return fmt.Sprintf("%d %s", n, pluralWord(n, word))
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
