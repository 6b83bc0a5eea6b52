package definition

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// cleanJSONDocument loads and validates a JSON document the fast way, and
// returns it only when kin-openapi has nothing to say about it; otherwise nil,
// and the caller loads it again the exact way (LoadFromData with origins).
//
// kin-openapi's LoadFromData decodes even JSON as YAML, to read each
// element's line (its origin) off the YAML nodes. go.yaml.in/yaml/v4 then
// compares every pair of keys of each mapping it decodes into a Go map, to
// refuse duplicates: components.schemas with n entries costs n²/2 string
// comparisons, most of the time of a 30,000-schema load. encoding/json has no
// such step, but it records no origins, and origins are what every
// kin-openapi error and validation warning is located by (kinLocate). So the
// fast way is taken only as far as it proves the document clean: decoded,
// every reference resolved, validation silent. Then no message needs a line.
// Anything else, including a decode error, falls back, so every message is
// exactly the exact way's: a large document with a warning pays for both
// loads.
//
// The document is LoadFromData's, origins aside, for a text whose keys
// plainKeys accepts (the caller checks, on the parser's tree): encoding/json
// merges a repeated key and matches "$REF" as "$ref", where the exact load
// does otherwise. ctx ends a load whose result is no longer wanted, between
// its steps; it then returns nil.
func cleanJSONDocument(ctx context.Context, data []byte) *openapi3.T {
	if !isJSONObject(data) {
		return nil
	}
	doc, err := decodeDocument(ctx, data)
	if err != nil || ctx.Err() != nil {
		return nil
	}
	l := openapi3.NewLoader()
	l.IsExternalRefsAllowed = false
	if err := l.ResolveRefsIn(doc, nil); err != nil || ctx.Err() != nil {
		return nil
	}
	if err := validateDoc(ctx, doc, openapi3.EnableMultiError()); err != nil {
		return nil
	}
	return doc
}

// decodeDocument decodes data into kin-openapi's document in less time than
// json.Unmarshal(data, &openapi3.T{}): the path items and the component
// schemas, most of a large document, are decoded one by one on every core,
// apart from the rest. For a text without repeated keys (plainKeys) the
// document is the same; with them it may differ (json.Unmarshal merges a
// repeated "content" within a path item, and this keeps only the last
// "webhooks"), which is why the fast load is only taken without them.
//
// kin-openapi's own decoding of a large document is mostly repeated work.
// T.UnmarshalJSON and Components.UnmarshalJSON decode their whole text
// twice, once more into a generic map only to keep its extensions;
// Paths.UnmarshalJSON decodes all paths into generic values, then marshals
// and decodes each path item again. Decoding each path item and each schema
// straight from its text (PathItem.UnmarshalJSON and SchemaRef.UnmarshalJSON,
// which kin-openapi ends up calling too) gives the same values, and the rest
// is decoded by kin-openapi as before, without them. ctx stops the items not
// yet decoded.
func decodeDocument(ctx context.Context, data []byte) (*openapi3.T, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	doc := &openapi3.T{}
	rawPaths, ok := top["paths"]
	rawComponents, hasComponents := top["components"]
	if !ok || !isJSONObject(rawPaths) || (hasComponents && !isJSONObject(rawComponents)) {
		return doc, json.Unmarshal(data, doc)
	}
	delete(top, "paths")
	delete(top, "components")
	rest, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	var paths *openapi3.Paths
	var components *openapi3.Components
	var pathsErr, componentsErr error
	var wg sync.WaitGroup
	wg.Go(func() { paths, pathsErr = decodePaths(ctx, rawPaths) })
	if hasComponents {
		wg.Go(func() { components, componentsErr = decodeComponents(ctx, rawComponents) })
	}
	err = json.Unmarshal(rest, doc)
	wg.Wait()
	if err = errors.Join(err, pathsErr, componentsErr); err != nil {
		return nil, err
	}
	doc.Paths, doc.Components = paths, components
	return doc, nil
}

// decodePaths decodes a paths object as Paths.UnmarshalJSON does: x- keys
// into Extensions (never nil), every other key a PathItem, here decoded in
// parallel (decodeEach).
func decodePaths(ctx context.Context, raw []byte) (*openapi3.Paths, error) {
	var items map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	paths := openapi3.NewPathsWithCapacity(len(items))
	paths.Extensions = map[string]any{}
	for k, v := range items {
		if strings.HasPrefix(k, "x-") {
			var ext any
			if err := json.Unmarshal(v, &ext); err != nil {
				return nil, err
			}
			paths.Extensions[k] = ext
			delete(items, k)
		}
	}
	return paths, decodeEach(ctx, items, func(k string, item *openapi3.PathItem) { paths.Set(k, item) })
}

// decodeComponents decodes a components object as Components.UnmarshalJSON
// does, its schemas decoded in parallel (decodeEach) and the rest by
// Components.UnmarshalJSON.
func decodeComponents(ctx context.Context, raw []byte) (*openapi3.Components, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	rawSchemas, ok := fields["schemas"]
	if ok && isJSONObject(rawSchemas) {
		delete(fields, "schemas")
	}
	rest, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	c := &openapi3.Components{}
	if err := c.UnmarshalJSON(rest); err != nil {
		return nil, err
	}
	if !ok || !isJSONObject(rawSchemas) {
		return c, nil // none, or decoded with the rest
	}
	var schemas map[string]json.RawMessage
	if err := json.Unmarshal(rawSchemas, &schemas); err != nil {
		return nil, err
	}
	c.Schemas = make(openapi3.Schemas, len(schemas))
	return c, decodeEach(ctx, schemas, func(k string, s *openapi3.SchemaRef) { c.Schemas[k] = s })
}

// decodeEach decodes every value of raw into a new T with T's UnmarshalJSON,
// on as many goroutines as there are cores, until ctx ends, and then hands
// each to set with its key, on the caller's goroutine. It returns the first
// error, having set nothing.
func decodeEach[T any, PT interface {
	*T
	UnmarshalJSON([]byte) error
}](ctx context.Context, raw map[string]json.RawMessage, set func(string, PT)) error {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	decoded := make([]PT, len(keys))
	errs := make([]error, len(keys))
	workers := min(runtime.GOMAXPROCS(0), len(keys))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(keys) && ctx.Err() == nil; i += workers {
				v := PT(new(T))
				errs[i] = v.UnmarshalJSON(raw[keys[i]])
				decoded[i] = v
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return err
	}
	for i, k := range keys {
		set(k, decoded[i])
	}
	return nil
}

// isJSONObject reports whether data starts, past JSON's whitespace, with "{":
// a document kin-openapi could read as JSON.
func isJSONObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}

// speculativeLoad is a cleanJSONDocument started on the file's text before
// the parser has read it, so that the two run on two cores: the parser's own
// YAML tree (lines for every message, the x-wso2 extensions) and
// kin-openapi's document take about the same time on a large JSON file.
// Its result stands only for the text it was started on, and only when
// that text's keys are plain (plainKeys, checked on the tree): when the
// parser rewrites the text (lenient, collapseRefChains), it is dropped.
// The parser stops it when it is done with the file (stop), so that a file
// refused early does not keep a second load running.
type speculativeLoad struct {
	data   []byte
	done   chan *openapi3.T
	cancel context.CancelFunc
}

// swaggerKey finds a "swagger" key: Swagger 2.0 is never loaded the fast
// way, so there is nothing to start. It matches such a key anywhere, a
// schema property named swagger too; the JSON is then loaded the fast way
// after the tree, not beside it: slower, never wrong.
var swaggerKey = regexp.MustCompile(`"swagger"\s*:`)

// speculate turns the speculative load on. Tests that count a load's
// allocations turn it off: how much a dropped speculative load allocated
// depends on when it was stopped, so the count would vary from run to run.
var speculate = true

// startSpeculativeLoad starts cleanJSONDocument(data) on its own goroutine,
// or returns nil when data is not a JSON object or looks like Swagger 2.0.
func startSpeculativeLoad(data []byte) *speculativeLoad {
	if !speculate || !isJSONObject(data) || swaggerKey.Match(data) {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &speculativeLoad{data: data, done: make(chan *openapi3.T, 1), cancel: cancel}
	go func() { s.done <- cleanJSONDocument(ctx, data) }()
	return s
}

// result returns the speculative document when it was made from exactly
// data (the same bytes, not rewritten since), waiting for it; ok is false
// when it was made from other text, and the caller loads data itself.
func (s *speculativeLoad) result(data []byte) (doc *openapi3.T, ok bool) {
	if s == nil || !sameBytes(data, s.data) {
		return nil, false
	}
	return <-s.done, true
}

// stop ends the load between its steps if it is still running; its result
// is not wanted any more. A nil load has nothing to stop.
func (s *speculativeLoad) stop() {
	if s != nil {
		s.cancel()
	}
}
