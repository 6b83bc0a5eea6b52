package validate

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// maxDescription bounds a fault's description: it may quote the client's
// own input (a field name, a value), which must not come back unbounded.
const maxDescription = 256

// requestFault is the 400 (900915) answer to a request that failed
// validation with err.
func requestFault(err error) *fault.Fault {
	return invalid(describe(err))
}

// invalid is fault.RequestInvalid with the description desc.
func invalid(desc string) *fault.Fault {
	f := fault.RequestInvalid
	return fault.New(f.Status, f.Code, f.Message, truncate(desc))
}

// describe says in one line what failed: the parameter or body field
// first, then why. It reads kin-openapi's error fields rather than its
// Error() text, which may dump whole schemas and values.
func describe(err error) string {
	var where, reason string
	var re *openapi3filter.RequestError
	var rs *openapi3filter.ResponseError
	switch {
	case errors.As(err, &re):
		switch {
		case re.Parameter != nil:
			where = fmt.Sprintf("%s parameter %q", re.Parameter.In, re.Parameter.Name)
		case re.RequestBody != nil:
			where = "request body"
		}
		reason = re.Reason
	case errors.As(err, &rs):
		where, reason = "response body", rs.Reason
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		if ptr := se.JSONPointer(); len(ptr) > 0 {
			where = strings.TrimSuffix(where, " body") + " body field \"/" + strings.Join(ptr, "/") + "\""
		}
		reason = se.Reason
	} else if reason == "" || (re != nil && re.Err != nil) || (rs != nil && rs.Err != nil) {
		reason = innerReason(re, rs, err)
	}
	if where == "" {
		return reason
	}
	return where + ": " + reason
}

// innerReason is the reason of an error without a schema error: the
// wrapped error's text (a parse error), else err's.
func innerReason(re *openapi3filter.RequestError, rs *openapi3filter.ResponseError, err error) string {
	switch {
	case re != nil && re.Err != nil:
		return join(re.Reason, re.Err.Error())
	case rs != nil && rs.Err != nil:
		return join(rs.Reason, rs.Err.Error())
	}
	return err.Error()
}

// join is "reason: cause", or the one of them that says it all.
func join(reason, cause string) string {
	if reason == "" || strings.HasPrefix(cause, reason) {
		return cause
	}
	return reason + ": " + cause
}

// truncate cuts s to maxDescription bytes, on a rune boundary, marking the cut.
func truncate(s string) string {
	if len(s) <= maxDescription {
		return s
	}
	cut := maxDescription - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
