package definition

import (
	"bytes"
	"context"
	"encoding/json"

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
// comparisons, most of the time of a 30,000-schema load. encoding/json, which
// kin-openapi also reads documents with (it falls back to it for JSON that
// YAML refuses), has no such step, but it records no origins, and origins are
// what every kin-openapi error and validation warning is located by
// (kinLocate). So the fast way is taken only as far as it proves the
// document clean: decoded, every reference resolved, validation silent. Then
// no message needs a line, and the document is what LoadFromData makes of it
// but for the origins, which nothing but the messages reads. Anything else,
// including a decode error, falls back, so every message is exactly the
// exact way's: a large document with a warning pays for both loads.
func cleanJSONDocument(data []byte) *openapi3.T {
	if !isJSONObject(data) {
		return nil
	}
	doc := &openapi3.T{}
	if err := json.Unmarshal(data, doc); err != nil {
		return nil
	}
	l := openapi3.NewLoader()
	l.IsExternalRefsAllowed = false
	if err := l.ResolveRefsIn(doc, nil); err != nil {
		return nil
	}
	if err := validateDoc(context.Background(), doc, openapi3.EnableMultiError()); err != nil {
		return nil
	}
	return doc
}

// isJSONObject reports whether data starts, past JSON's whitespace, with "{":
// a document kin-openapi could read as JSON.
func isJSONObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}
