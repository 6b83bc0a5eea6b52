// Package fault holds the gateway's error answers, pre-rendered once in
// micro-gw's JSON shape: {"fault":{"code":..,"message":"..","description":".."}}.
//
// Every error the gateway itself produces comes from here, so the codes and
// texts live in one place and no request pays for encoding them.
package fault

import "encoding/json"

// Fault is one error answer: an HTTP status and its pre-rendered JSON body.
type Fault struct {
	Status      int
	Code        int
	Message     string
	Description string
	// Body is the JSON document sent to the client; never modify it.
	Body []byte
}

// AppendWithID appends f's body to dst with the request's id at the end of
// its description: "... (request id: <id>)". id must be JSON-safe (the
// gateway's ids are letters, digits, '.', '_' and '-').
func (f *Fault) AppendWithID(dst, id []byte) []byte {
	// Body ends with the description's closing quote and two braces.
	end := len(f.Body) - len(`"}}`)
	dst = append(dst, f.Body[:end]...)
	dst = append(dst, " (request id: "...)
	dst = append(dst, id...)
	dst = append(dst, ')')
	return append(dst, f.Body[end:]...)
}

// ContentType is the media type of every fault body.
const ContentType = "application/json"

// New renders a fault. Package-level values below cover the gateway's own
// errors; New is exported for packages that add their own (CORS, breakers).
func New(status, code int, message, description string) *Fault {
	type inner struct {
		Code        int    `json:"code"`
		Message     string `json:"message"`
		Description string `json:"description"`
	}
	body, err := json.Marshal(struct {
		Fault inner `json:"fault"`
	}{inner{code, message, description}})
	if err != nil {
		panic("fault: " + err.Error()) // cannot happen for ints and strings
	}
	return &Fault{Status: status, Code: code, Message: message, Description: description, Body: body}
}

// The gateway's faults. Codes 1015xx are micro-gw's runtime error codes;
// the others use the HTTP status as their code, as micro-gw's 404 does.
var (
	NotFound           = New(404, 404, "Not Found", "No matching resource found for given API Request")
	MethodNotAllowed   = New(405, 405, "Method Not Allowed", "The resource does not support this HTTP method; see the Allow header")
	BadRequest         = New(400, 400, "Bad Request", "The request could not be parsed")
	HeaderTooLarge     = New(431, 431, "Request Header Fields Too Large", "The request header exceeds the gateway's limit (--max-header-bytes)")
	BackendUnreachable = New(502, 101503, "Runtime Error", "Error connecting to the back end")
	BackendTimeout     = New(504, 101504, "Runtime Error", "Connection timed out")
	NoEndpoint         = New(503, 101505, "Runtime Error", "No usable endpoint is configured for this resource")
	RequestTimeout     = New(408, 408, "Request Timeout", "The client did not send the request in time")
	// BadBody answers a request whose body could not be read: malformed
	// chunked encoding, a forbidden trailer, or fewer bytes than its
	// Content-Length. It is the client's fault, never the backend's.
	BadBody = New(400, 400, "Bad Request", "The request body is malformed or incomplete; send it again with valid framing (Content-Length or chunked encoding)")
	// EncodedSlash refuses a path with %2F or %5C: a backend that decodes
	// them would see segments the gateway did not route, such as "..".
	EncodedSlash = New(400, 400, "Bad Request", "The request path contains an encoded slash or backslash (%2F or %5C), which the gateway refuses: a backend decoding it could serve a path outside the API. Send the path without them")
	// Backslash refuses a path with a backslash written plainly: it is what
	// %5C decodes to, and a backend reading it as a slash would see
	// segments the gateway did not route.
	Backslash = New(400, 400, "Bad Request", "The request path contains a backslash (\\), which the gateway refuses: a backend reading it as a slash could serve a path outside the API. Send the path without it")
	// BadPath refuses a path with an encoded NUL or a malformed escape.
	BadPath = New(400, 400, "Bad Request", "The request path contains an encoded NUL (%00) or a '%' not followed by two hexadecimal digits")
	// BadHeaderName refuses a header whose name has a space in it.
	BadHeaderName = New(400, 400, "Bad Request", "A request header name contains a space; header names are single tokens")
	// BadTransferEncoding refuses a request whose Transfer-Encoding does
	// not end in chunked: its body's length cannot be known.
	BadTransferEncoding = New(400, 400, "Bad Request", "The request's Transfer-Encoding is not chunked; send the body chunked or with a Content-Length")
	// BareLineFeed refuses a request header block that ends with a bare LF
	// instead of CRLF, which fasthttp would otherwise wait on until the
	// client read timeout.
	BareLineFeed = New(400, 400, "Bad Request", "The request header must end with an empty line terminated by CRLF (\\r\\n), not a bare LF")
	// VersionNotSupported answers a request line whose version is not HTTP/1.x.
	VersionNotSupported = New(505, 505, "HTTP Version Not Supported", "The gateway speaks HTTP/1.0 and HTTP/1.1; send the request as HTTP/1.1")
)

// Authentication and authorization faults, with micro-gw 3.x's codes and
// messages. A 401 answer also carries WWW-Authenticate (the guard adds it).
var (
	// AuthUnavailable answers while the gateway cannot verify any token
	// yet: no key set was ever fetched from the issuer's JWKS URL. It fails
	// closed; the log says why.
	AuthUnavailable = New(401, 900900, "Unclassified Authentication Failure", "The gateway cannot verify credentials yet (no signing keys are available from the issuer); try again later")
	// InvalidCredentials answers a credential that is not valid: a bad
	// signature, an unknown issuer or key, a revoked token or API key.
	InvalidCredentials = New(401, 900901, "Invalid Credentials", "Make sure you have provided the correct security credentials")
	// MissingCredentials answers a request without the credential its
	// resource requires.
	MissingCredentials = New(401, 900902, "Missing Credentials", "Make sure your API invocation call has a header: 'Authorization: Bearer ACCESS_TOKEN'")
	// TokenExpired answers a token past its exp (with the clock skew).
	TokenExpired = New(401, 900903, "Access Token Expired", "Renew the access token and try again")
	// WrongKeyType answers a SANDBOX credential on a resource without
	// sandbox endpoints: it is refused, never sent to production.
	WrongKeyType = New(401, 900905, "Incorrect Access Token Type is provided", "The API has no sandbox endpoints; use a PRODUCTION key")
	// NotSubscribed answers a token whose subscribedAPIs does not list the API.
	NotSubscribed = New(403, 900908, "Resource forbidden ", "User is NOT authorized to access the Resource. API Subscription validation failed.")
	// ScopeMissing answers a token without every scope the resource requires.
	ScopeMissing = New(403, 900910, "The access token does not allow you to access the requested resource", "User is NOT authorized to access the Resource: the token lacks a required scope")
	// BasicInvalid answers basic-auth credentials that do not match.
	BasicInvalid = New(401, 900911, "Invalid Credentials", "Make sure you have provided the correct user name and password")
	// BasicMalformed answers an Authorization: Basic header that cannot be decoded.
	BasicMalformed = New(401, 900912, "Invalid Format", "The basic authentication header must be 'Basic base64(user:password)'")
	// ClientCertRequired answers a request to an API with mandatory
	// mutual TLS that came without a client certificate signed by a
	// trusted CA (--client-ca).
	ClientCertRequired = New(401, 900901, "Invalid Credentials", "The API requires a client certificate signed by a trusted CA (mutual TLS); connect over HTTPS with one")
	// InvalidScheme answers an Authorization header with an unexpected scheme.
	InvalidScheme = New(401, 900917, "Invalid Authentication scheme", "Use the authentication scheme the API requires, e.g. 'Authorization: Bearer ACCESS_TOKEN'")
)

// Validation faults (x-wso2-request-validation, x-wso2-response-validation),
// with micro-gw 3.x's codes. A request that fails gets RequestInvalid's
// status, code and message with a description naming the parameter or body
// field (pkg/gateway/validate renders it); these are the generic forms.
var (
	// RequestInvalid answers a request that does not match the API definition.
	RequestInvalid = New(400, 900915, "Unprocessable entity", "The request does not match the API definition")
	// ResponseInvalid answers in place of a backend response that does not
	// match the API definition; the gateway logs what was wrong.
	ResponseInvalid = New(500, 900916, "Unprocessable entity", "The backend's response does not match the API definition")
	// BodyTooLargeToValidate answers a request to a validated resource
	// whose body is larger than the gateway reads to validate.
	BodyTooLargeToValidate = New(413, 413, "Payload Too Large", "The request body is larger than the gateway validates (--max-validated-body-bytes); send a smaller body")
)

// Throttling faults, with micro-gw 3.x's codes and texts. A 429 also
// carries Retry-After and the RateLimit header fields (package throttle
// renders them).
var (
	// APIThrottled answers a request over the API's x-wso2-throttling-tier.
	APIThrottled = New(429, 900800, "Message throttled out", "You have exceeded your quota")
	// ResourceThrottled answers a request over the operation's
	// x-wso2-throttling-tier.
	ResourceThrottled = New(429, 900802, "Message throttled out", "You have exceeded your quota")
	// ApplicationThrottled answers a request over the calling
	// application's tier (the token's application.tier), across APIs.
	ApplicationThrottled = New(429, 900803, "Message throttled out", "You have exceeded your quota")
	// SubscriptionThrottled answers a request over the application's
	// subscription tier for the API (subscribedAPIs[].subscriptionTier),
	// or over Unauthenticated per client IP on an API served open.
	SubscriptionThrottled = New(429, 900804, "Message throttled out", "You have exceeded your quota")
	// PolicyNotFound answers a token naming an application or
	// subscription tier that policies.yaml does not define; tiers in
	// definitions are checked at build time instead.
	PolicyNotFound = New(500, 900809, "throttling policy not found", "The token names an application or subscription tier that the gateway does not define; define the token's application or subscription tier in policies.yaml and rebuild")
)
