package gateway

import (
	"strconv"
	"strings"
)

// printable returns s as it is when every rune of it prints, else s quoted
// as a Go string. Titles and versions come from API definitions, which
// anyone may write: a newline or an escape sequence printed raw would forge
// or hide lines of --version's output.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}
