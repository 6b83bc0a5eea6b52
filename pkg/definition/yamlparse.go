package definition

import (
	"bytes"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"
)

// documentStart is what withDocumentStart puts before a JSON document.
const documentStart = "--- "

// withDocumentStart returns data with "--- " put at the start of the line of
// its first non-blank character, and that line, when that character is "{"
// (a JSON object); otherwise nil.
//
// go.yaml.in/yaml/v4 keeps a document's top-level "{" as a possible key of a
// block mapping ({...}: value) until its closing "}", and so holds every
// token of the document in its queue before it builds the first node: for
// Stripe's 4 MB description, 0.9 s and 480 MB allocated. After "---" on the
// same line, "{" cannot be a key, and the same parse takes 0.15 s and 65 MB.
// The document is the same; its lines are unchanged, and the columns of that
// one line move right by 4.
func withDocumentStart(data []byte) (out []byte, line int) {
	i := 0
	line = 1
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		if data[i] == '\n' || (data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n')) {
			line++
		}
		i++
	}
	if i == len(data) || data[i] != '{' {
		return nil, 0
	}
	lineStart := bytes.LastIndexAny(data[:i], "\r\n") + 1
	out = make([]byte, 0, len(data)+len(documentStart))
	out = append(out, data[:lineStart]...)
	out = append(out, documentStart...)
	return append(out, data[lineStart:]...), line
}

// unmarshalTree is yaml.Unmarshal(data, doc), faster for JSON (see
// withDocumentStart), with the same tree: the columns of the first line are
// put back, and a document that does not parse is parsed again as it is, so
// that the error is the same too.
func unmarshalTree(data []byte, doc *yaml.Node) error {
	if fast, line := withDocumentStart(data); fast != nil {
		if err := yaml.Unmarshal(fast, doc); err == nil {
			shiftColumns(doc, line, -len(documentStart))
			return nil
		}
		*doc = yaml.Node{}
	}
	return yaml.Unmarshal(data, doc)
}

// shiftColumns moves the nodes on line by delta columns. The document node
// takes its position from its first node, as it has without "---".
func shiftColumns(doc *yaml.Node, line, delta int) {
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Line == line {
			n.Column += delta
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, c := range doc.Content {
		walk(c)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc.Line, doc.Column = doc.Content[0].Line, doc.Content[0].Column
	}
}

// loadOpenAPI is l.LoadFromData(data), faster for JSON (see
// withDocumentStart). When that fails, data is loaded as it is, by a loader
// set up as l was, so that errors are kin-openapi's own. So is a document
// holding a U+0085, which kin-openapi reads as JSON because YAML takes it
// for a line break. Origins on the first line of a JSON document are 4
// columns to the right.
func loadOpenAPI(l *openapi3.Loader, data []byte) (*openapi3.T, error) {
	fresh := *l // before any use: a failed load leaves state behind
	if fast, _ := withDocumentStart(data); fast != nil && !bytes.Contains(data, []byte("\u0085")) {
		if doc, err := l.LoadFromData(fast); err == nil {
			return doc, nil
		}
	}
	return fresh.LoadFromData(data)
}
