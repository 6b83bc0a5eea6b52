package definition

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// validateCases are documents with problems in every place validateDoc
// treats differently: schemas reached from entry points it swaps, examples
// checked against those schemas, and problems outside schemas.
var validateCases = map[string]string{
	"valid graph": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a/{id}:
    parameters: [{name: id, in: path, required: true, schema: {$ref: '#/components/schemas/Id'}}]
    get:
      parameters: [{$ref: '#/components/parameters/Q'}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}
    post:
      requestBody: {$ref: '#/components/requestBodies/B'}
      callbacks:
        cb: {'{$request.body#/url}': {post: {requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}, responses: {'200': {description: ok}}}}}
      responses: {'200': {$ref: '#/components/responses/R'}}
components:
  parameters:
    Q: {name: q, in: query, schema: {type: array, items: {$ref: '#/components/schemas/Id'}}, example: ['x']}
  requestBodies:
    B: {content: {application/json: {schema: {$ref: '#/components/schemas/A'}, example: {b: {a: {}}}}}}
  responses:
    R: {description: ok, headers: {X-Rate: {schema: {type: integer}}}, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}
  schemas:
    Id: {type: string, default: x}
    A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}, ids: {type: array, items: {$ref: '#/components/schemas/Id'}}}}
    B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}, example: {a: {ids: [y]}}}
`,
	"schema deep in the graph is invalid": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}
components:
  schemas:
    A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}
    B: {type: object, properties: {list: {type: array}}}
`,
	"media type example does not match its schema": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}, example: {n: not-a-number}}}}
components:
  schemas:
    A: {type: object, properties: {n: {type: integer}}}
`,
	"named media type example does not match its schema": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/A'}, examples: {one: {$ref: '#/components/examples/E'}}}}}
      responses: {'204': {description: ok}}
components:
  examples:
    E: {value: {n: [1]}}
  schemas:
    A: {type: object, properties: {n: {type: integer}}}
`,
	"parameter example does not match its schema": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      parameters: [{name: n, in: query, schema: {type: integer, minimum: 10}, example: 3}]
      responses: {'204': {description: ok}}
`,
	"parameter schema is invalid": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      parameters: [{name: n, in: query, schema: {type: array}}]
      responses: {'204': {description: ok}}
`,
	"schema default has the wrong type": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}
components:
  schemas:
    A: {type: object, properties: {n: {type: integer, default: many}}}
`,
	"response has no description": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses: {'200': {content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}
components:
  schemas:
    A: {type: object}
`,
	"response header schema is invalid": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses: {'204': {description: ok, headers: {X-List: {schema: {type: array}}}}}
`,
	"callback schema is invalid": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    post:
      callbacks:
        cb: {'{$request.body#/url}': {post: {requestBody: {content: {application/json: {schema: {type: array}}}}, responses: {'200': {description: ok}}}}}
      responses: {'204': {description: ok}}
`,
	"two problems, in a schema and outside": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses: {'200': {content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}
components:
  schemas:
    A: {type: object, properties: {n: {type: integer, default: many}}}
`,
	"3.1 type list": `
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}
components:
  schemas:
    A: {type: object, properties: {n: {type: [integer, 'null'], const: 3}}}
`,
	"3.0 type list": `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}
components:
  schemas:
    A: {type: object, properties: {n: {type: [integer, 'null']}}}
`,
}

// sameValidation checks that validateDoc gives doc.Validate's answer and
// leaves the document as it found it.
func sameValidation(t *testing.T, doc *openapi3.T, opts ...openapi3.ValidationOption) {
	t.Helper()
	ctx := context.Background()
	before, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := doc.Validate(ctx, opts...)
	got := validateDoc(ctx, doc, opts...)
	switch {
	case (want == nil) != (got == nil):
		t.Errorf("validateDoc: %v\nValidate:    %v", got, want)
	case want != nil && got.Error() != want.Error():
		t.Errorf("validateDoc: %v\nValidate:    %v", got, want)
	}
	after, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("validateDoc changed the document:\nbefore %s\nafter  %s", before, after)
	}
	if want == nil {
		if err := doc.Validate(ctx, opts...); err != nil {
			t.Errorf("after validateDoc, the document no longer validates: %v", err)
		}
	}
}

func TestValidateDocAnswersAsKinOpenAPIValidate(t *testing.T) {
	for name, src := range validateCases {
		t.Run(name, func(t *testing.T) {
			doc := loadKin(t, []byte(src))
			sameValidation(t, doc)
			sameValidation(t, doc, openapi3.EnableMultiError())
			sameValidation(t, doc, openapi3.DisableExamplesValidation())
		})
	}
}

// TestValidateDocAnswersAsKinOpenAPIValidateOnTestdata runs the comparison
// on every definition of the loader's tests that kin-openapi loads.
func TestValidateDocAnswersAsKinOpenAPIValidateOnTestdata(t *testing.T) {
	files, err := filepath.Glob("testdata/defs/*/*")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/defs/*.yaml")
	n := 0
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc *openapi3.T
		if bytes.Contains(data, []byte("swagger:")) || bytes.Contains(data, []byte(`"swagger"`)) {
			var d2 openapi2.T
			if openapi2.UnmarshalFromData(data, &d2) != nil {
				continue
			}
			if doc, err = openapi2conv.ToV3(&d2); err != nil {
				continue
			}
		} else {
			l := openapi3.NewLoader()
			l.IncludeOrigin = true
			if doc, err = l.LoadFromData(data); err != nil {
				continue
			}
		}
		n++
		t.Run(strings.TrimPrefix(f, "testdata/defs/"), func(t *testing.T) {
			sameValidation(t, doc)
			sameValidation(t, doc, openapi3.EnableMultiError())
		})
	}
	if n < 10 {
		t.Fatalf("only %d testdata definitions loaded; the comparison covers too little", n)
	}
}

func loadKin(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	l := openapi3.NewLoader()
	l.IncludeOrigin = true
	doc, err := l.LoadFromData(data)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
