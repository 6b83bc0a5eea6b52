// Package validate checks requests and backend responses against the API
// definition's schemas, as micro-gw 3.x's enableRequestValidation and
// enableResponseValidation did, with kin-openapi's openapi3filter.
//
// The build stores, per resource with validation on, the OpenAPI operation
// as JSON (spec.Resource.Validation) and the components it refers to
// (spec.API.Validation). ForAPI decodes them and resolves their references
// once, at start; each request then costs its route's Validator only. A
// route without validation has a nil *Validator, whose methods return at
// once: the request path pays one nil check.
//
// A validated request's body is read whole (at most MaxBody bytes, larger
// gets 413) and stays on the request, in memory, for the backend.
package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Options are the gateway's settings for validation.
type Options struct {
	// MaxBody is the largest body read to validate it
	// (max-validated-body-bytes).
	MaxBody int
	// Log receives the responses that failed validation, at warn level
	// and at most once per LogInterval per route; nil discards them.
	Log *slog.Logger
	// LogInterval is the least time between two such warnings of one
	// route; 0 means one second.
	LogInterval time.Duration
	// Now is the clock of that limit; nil means time.Now.
	Now func() time.Time
}

// Validator checks the requests and responses of one route. A nil
// *Validator checks nothing.
type Validator struct {
	route    *routers.Route
	request  bool
	response bool
	// readBody is set when the operation has a request body to validate.
	readBody bool
	// segments is the route's full path template (base path included),
	// split on "/", for the path parameters.
	segments []segment
	place    string
	filter   *openapi3filter.Options
	opts     Options
	logGate  logGate
}

// ForAPI compiles the validators of api's resources: a slice parallel to
// api.Resources whose entry is nil for a resource without validation. It
// is called once, at start; an error means the route table is not one the
// build wrote.
func ForAPI(api *spec.API, opts Options) ([]*Validator, error) {
	out := make([]*Validator, len(api.Resources))
	if api.Validation == nil {
		return out, nil
	}
	if opts.MaxBody <= 0 {
		return nil, fmt.Errorf("validation of API %q: the largest validated body is %d bytes; set --max-validated-body-bytes above 0", api.Title, opts.MaxBody)
	}
	if opts.LogInterval <= 0 {
		opts.LogInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	doc, err := document(api)
	if err != nil {
		return nil, err
	}
	filter := &openapi3filter.Options{
		// The backend gets the body the client sent, never one with
		// defaults filled in.
		SkipSettingDefaults: true,
	}
	for i := range api.Resources {
		r := &api.Resources[i]
		if r.Validation == nil {
			continue
		}
		item := doc.Paths.Value(r.Path)
		op := item.GetOperation(r.Method)
		out[i] = &Validator{
			route:    &routers.Route{Spec: doc, Path: r.Path, PathItem: item, Method: r.Method, Operation: op},
			request:  r.Validation.Request,
			response: r.Validation.Response,
			readBody: r.Validation.Request && op.RequestBody != nil,
			segments: splitTemplate(spec.JoinPath(api.BasePath, r.Path)),
			place:    r.Method + " " + spec.JoinPath(api.BasePath, r.Path),
			filter:   filter,
			opts:     opts,
		}
	}
	return out, nil
}

// document rebuilds the OpenAPI document of api's validated operations
// from the route table, with every reference resolved.
func document(api *spec.API) (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: api.Validation.OpenAPI,
		Info:    &openapi3.Info{Title: api.Title, Version: api.Version},
		Paths:   openapi3.NewPaths(),
	}
	if len(api.Validation.Components) > 0 {
		var c openapi3.Components
		if err := json.Unmarshal(api.Validation.Components, &c); err != nil {
			return nil, fmt.Errorf("validation of API %q: decode its components: %w", api.Title, err)
		}
		doc.Components = &c
	}
	for i := range api.Resources {
		r := &api.Resources[i]
		if r.Validation == nil {
			continue
		}
		op := &openapi3.Operation{}
		if err := json.Unmarshal(r.Validation.Operation, op); err != nil {
			return nil, fmt.Errorf("validation of %s %s: decode the operation: %w", r.Method, r.Path, err)
		}
		item := doc.Paths.Value(r.Path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(r.Path, item)
		}
		item.SetOperation(r.Method, op)
	}
	l := openapi3.NewLoader()
	if err := l.ResolveRefsIn(doc, nil); err != nil {
		return nil, fmt.Errorf("validation of API %q: resolve its references: %w", api.Title, err)
	}
	return doc, nil
}

// ValidateRequest checks the request of ctx, whose route v is, against
// the operation: parameters, and the body when the operation has one. It
// returns nil when the request may go on, else the fault to answer: 400
// (900915) naming the first failing parameter or body field, 413 for a
// body larger than MaxBody, 400 or 408 when the body could not be read
// (the connection is then closed). The body read stays on the request.
func (v *Validator) ValidateRequest(ctx *fasthttp.RequestCtx) *fault.Fault {
	if v == nil || !v.request {
		return nil
	}
	var body []byte
	if v.readBody {
		b, f := readRequestBody(ctx, v.opts.MaxBody)
		if f != nil {
			return f
		}
		body = b
	}
	hr, params, f := v.httpRequest(ctx, body)
	if f != nil {
		return f
	}
	in := &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: v.route, Options: v.filter}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return requestFault(err)
	}
	return nil
}

// ValidateResponse checks resp, the backend's answer to the request of
// ctx, against the operation's responses. It returns nil when resp may
// go to the client, else fault.ResponseInvalid (500, 900916), having
// logged why; the caller then drops resp and answers the fault. The body
// read stays on resp.
func (v *Validator) ValidateResponse(ctx *fasthttp.RequestCtx, resp *fasthttp.Response) *fault.Fault {
	if v == nil || !v.response || ctx.IsHead() {
		return nil
	}
	body, err := readResponseBody(resp, v.opts.MaxBody)
	if err != nil {
		v.logResponse(resp.StatusCode(), err.Error())
		return fault.ResponseInvalid
	}
	header := make(http.Header)
	for k, val := range resp.Header.All() {
		header.Add(string(k), string(val))
	}
	hr := &http.Request{Method: v.route.Method, URL: &url.URL{}, Header: http.Header{}}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: hr, Route: v.route, Options: v.filter},
		Status:                 resp.StatusCode(),
		Header:                 header,
		Options:                v.filter,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		v.logResponse(resp.StatusCode(), describe(err))
		return fault.ResponseInvalid
	}
	return nil
}

// logResponse logs a response that failed validation, within the route's
// rate limit.
func (v *Validator) logResponse(status int, why string) {
	if v.opts.Log == nil {
		return
	}
	if ok, suppressed := v.logGate.allow(v.opts.Now(), v.opts.LogInterval); ok {
		v.opts.Log.Warn("backend response failed validation; answered 500 (900916)", "route", v.place, "status", status, "error", why, "suppressed", suppressed)
	}
}

// httpRequest renders the fasthttp request as the net/http request
// openapi3filter reads, with the path parameters of v's template.
func (v *Validator) httpRequest(ctx *fasthttp.RequestCtx, body []byte) (*http.Request, map[string]string, *fault.Fault) {
	req := &ctx.Request
	params, ok := v.pathParams(req.URI().PathOriginal())
	if !ok {
		return nil, nil, invalid("the request path has a malformed escape")
	}
	hr := &http.Request{
		Method:        string(req.Header.Method()),
		URL:           &url.URL{Path: string(req.URI().Path()), RawQuery: string(req.URI().QueryString())},
		Header:        make(http.Header),
		Body:          http.NoBody,
		ContentLength: int64(len(body)),
		Host:          string(req.Host()),
	}
	if body != nil {
		hr.Body = io.NopCloser(bytes.NewReader(body))
	}
	for k, val := range req.Header.All() {
		hr.Header.Add(string(k), string(val))
	}
	return hr, params, nil
}

// readRequestBody reads the body of ctx's request, at most max bytes, and
// leaves it on the request in memory, so that the backend gets it whole.
func readRequestBody(ctx *fasthttp.RequestCtx, max int) ([]byte, *fault.Fault) {
	req := &ctx.Request
	if !req.IsBodyStream() {
		if b := req.Body(); len(b) > max {
			return nil, fault.BodyTooLargeToValidate
		}
		return req.Body(), nil
	}
	n := req.Header.ContentLength()
	if n > max {
		// Not read: closing is cheaper than draining it.
		ctx.SetConnectionClose()
		return nil, fault.BodyTooLargeToValidate
	}
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	var err error
	buf.B, err = readAtMost(buf.B[:0], req.BodyStream(), n, max)
	switch {
	case errors.Is(err, errTooLarge):
		ctx.SetConnectionClose()
		return nil, fault.BodyTooLargeToValidate
	case err != nil:
		ctx.SetConnectionClose()
		if isTimeout(err) {
			return nil, fault.RequestTimeout
		}
		return nil, fault.BadBody
	}
	// ResetBody hands the request's prefetch buffer back to the server's
	// stream; SwapBody then puts the bytes read on the request without a
	// copy, and buf goes back to the pool with the request's old slice.
	req.ResetBody()
	buf.B = req.SwapBody(buf.B)[:0]
	// A chunked body is now one of known length.
	req.Header.SetContentLength(len(req.Body()))
	return req.Body(), nil
}

// readResponseBody reads resp's body, at most max bytes, and leaves it on
// resp in memory.
func readResponseBody(resp *fasthttp.Response, max int) ([]byte, error) {
	if !resp.IsBodyStream() {
		if b := resp.Body(); len(b) > max {
			return nil, fmt.Errorf("the response body is larger than --max-validated-body-bytes (%d)", max)
		}
		return resp.Body(), nil
	}
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	var err error
	buf.B, err = readAtMost(buf.B[:0], resp.BodyStream(), resp.Header.ContentLength(), max)
	if err != nil {
		resp.ResetBody()
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("the response body is larger than --max-validated-body-bytes (%d)", max)
		}
		return nil, fmt.Errorf("reading the response body: %w", err)
	}
	// ResetBody closes the stream, which releases the backend connection.
	resp.ResetBody()
	buf.B = resp.SwapBody(buf.B)[:0]
	return resp.Body(), nil
}

var errTooLarge = errors.New("body too large")

// readAtMost appends what r holds to dst: n bytes when n >= 0, else up to
// its end; more than max bytes is errTooLarge.
func readAtMost(dst []byte, r io.Reader, n, max int) ([]byte, error) {
	if n > max {
		return dst, errTooLarge
	}
	if n >= 0 {
		dst = slices.Grow(dst, n)[:len(dst)+n]
		_, err := io.ReadFull(r, dst[len(dst)-n:])
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return dst, err
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		m, err := r.Read(dst[len(dst):min(cap(dst), max+1)])
		dst = dst[:len(dst)+m]
		if len(dst) > max {
			return dst, errTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// logGate lets one log line through per interval and counts the others.
type logGate struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (g *logGate) allow(now time.Time, every time.Duration) (bool, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.last.IsZero() && now.Sub(g.last) < every {
		g.suppressed++
		return false, 0
	}
	n := g.suppressed
	g.last, g.suppressed = now, 0
	return true, n
}
