package definition

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// What kin-openapi's validation finds are specification violations the
// gateway does not depend on: it routes by paths, methods, servers and the
// x-wso2-* extensions, which this package checks itself. So each is a
// warning, with its line; strict mode turns them back into errors. The
// problems that do break routing (a path the router cannot match, two
// operations on one route, no endpoint, a bad URL) are errors found
// elsewhere.

// validate reports every problem kin-openapi's validation finds in doc as
// a warning.
func (p *parser) validate(doc *openapi3.T) {
	err := validateDoc(context.Background(), doc, openapi3.EnableMultiError())
	if err == nil {
		return
	}
	leaves, ok := err.(openapi3.MultiError)
	if !ok {
		leaves = openapi3.MultiError{err}
	}
	seen := map[string]bool{}
	for _, e := range leaves {
		p.validationWarning(e, seen)
	}
}

// validationWarning reports one validation problem, once.
func (p *parser) validationWarning(err error, seen map[string]bool) {
	var undefined *openapi3.SecurityRequirementSchemeUndefinedError
	var conflict *openapi3.ConflictingPathsError
	if errors.As(err, &undefined) || errors.As(err, &conflict) {
		return // reported with more to say by resolveSecurity and ambiguousPaths
	}
	var pth *openapi3.PathValidationError
	var pp *openapi3.PathParametersError
	if errors.As(err, &pth) && p.badPaths[pth.Path] || errors.As(err, &pp) && p.badPaths[pp.Path] {
		return // the path itself was refused
	}
	at, place := p.kinLocate(err)
	if at != nil && p.neutralized[[2]int{at.Line, at.Column}] {
		return // an empty object that stands for a reference already reported
	}
	msg, hint := p.validationText(err)
	// One problem at one line is reported once, whichever schema, parameter
	// or operation led the validator to it.
	cause := err
	for u := errors.Unwrap(cause); u != nil; u = errors.Unwrap(cause) {
		cause = u
	}
	key := strconv.Itoa(lineOf(at)) + "\x00" + cause.Error()
	if seen[key] {
		return
	}
	seen[key] = true
	if place != "" {
		msg = place + ": " + msg
	}
	p.warn(at, "%s; %s", msg, hint)
}

// validationText returns what a validation error says, without the
// "invalid paths: invalid path /x: invalid operation GET:" prefix that the
// place already gives, on one line, and what to do about it.
func (p *parser) validationText(err error) (msg, hint string) {
	inner := err
	for {
		switch x := inner.(type) {
		case *openapi3.SectionValidationError:
			inner = x.Cause
			continue
		case *openapi3.PathValidationError:
			inner = x.Cause
			continue
		case *openapi3.OperationValidationError:
			inner = x.Cause
			continue
		}
		break
	}
	msg, _, _ = strings.Cut(inner.Error(), "\n")
	msg = strings.TrimSpace(msg)
	if p.swagger {
		msg = swaggerRefs.Replace(msg)
	}

	std := "the OpenAPI 3.0/3.1 specification"
	if p.swagger {
		std = "the Swagger 2.0 specification"
	}
	hint = "the gateway does not depend on it, but correct it to follow " + std
	var scopes *openapi3.OAuthFlowScopesRequired
	var schemaOrContent *openapi3.ParameterContentSchemaExactlyOne
	var value *openapi3.SchemaValueError
	var params *openapi3.PathParametersError
	switch {
	case errors.As(err, &scopes):
		hint = "add scopes: {} to the flow"
	case errors.As(err, &schemaOrContent):
		hint = "give the parameter one of them, e.g. schema: {type: string}; the gateway passes the parameter on unchecked"
	case errors.As(err, &value):
		hint = "make the " + value.ValueKind + " match its schema, or remove it; the gateway does not use it"
	case errors.As(err, &params):
		hint = "declare each {parameter} of the path under parameters with in: path; the gateway routes the path either way"
	}
	return msg, hint
}
