// Package proxy is the gateway's request path: it routes a request to its
// resource, forwards it to the resource's backend and streams the answer
// back, on fasthttp (see docs/design-proxy.md for why).
//
// The client's request object is forwarded as is, after its URI, Host and
// hop-by-hop headers are rewritten, and the backend's response is read
// straight into the client's response, so a proxied request copies no
// header or body it does not have to. Request bodies stream to the backend
// in chunks of a few kilobytes. A response body of known length up to
// 64 KiB is read whole, and its backend connection returns to the pool at
// once; a larger one, or one of unknown length, streams to the client, and
// its connection returns once the body has been written (transport.go).
//
// # Stages
//
// The request path is a pipeline of small stages, in this order (serve.go
// lists them with their functions): admit (version, header names, path) →
// match (route, transports, CORS preflight) → guards, where authentication
// and throttling plug in → endpoint selection (a selector per list) →
// exchange, with failover, retries and the circuit breaker → response
// filters (hop-by-hop headers, CORS, HTTP/1.0). The files follow them:
//
//   - options.go, proxy.go: Options; Proxy, its server and access log.
//   - routes.go: New compiles a spec.Gateway into routes; cors.go adds the
//     preflight routes, transports.go reads x-wso2-transports.
//   - serve.go: the stages, admit to response filters; path.go checks
//     and decodes paths; hop.go handles hop-by-hop headers; http10.go
//     answers HTTP/1.0 clients.
//   - endpoints.go, select.go: endpoint lists, passive health, selectors.
//   - exchange.go, retry.go, breaker.go, pause.go, body.go: the exchange.
//   - upstream.go, transport.go: Backends, their connection pools and the
//     backend transport.
//   - listener.go: the client listeners; log.go: fasthttp's log.
//
// # Request checks
//
// Before routing, a request line whose version is not HTTP/1.x gets 505,
// a header name with a space in it 400, and a Transfer-Encoding other than
// chunked 400 with the connection closed (the body's end is unknown). A path with percent-escapes is
// checked and normalized: an escaped slash or backslash (%2F, %5C), and a
// plain backslash, get 400 unless --escaped-slashes=keep, an escaped NUL
// or a malformed escape always does; routes are matched against the path with its escapes
// decoded (but those of '/', '\', NUL and '%'), so /caf%C3%A9 reaches
// /café; the path is forwarded as received, except that escapes of
// unreserved characters (letters, digits, - . _ ~) are decoded. A client's
// Forwarded header is removed; X-Forwarded-For (appended to), -Host and
// -Proto are set. A header block ended by a bare LF, on which fasthttp
// would wait until the client read timeout, gets 400 at once on plain-text
// connections from Listener (listener.go).
//
// # Endpoint lists
//
// A resource is served by its operation's x-wso2-production-endpoints, else
// its API's. Each URL of a list is a Backend following an endpoint.Binding,
// so an etcd(key, default) entry anywhere in a list follows its key live.
// A selector (select.go) picks the URL of each attempt:
//
//   - type http uses the first URL only (spec.Endpoints.Active). A list of
//     one URL, whatever its type, is served by single, which tracks no
//     health.
//   - type load_balance spreads requests round-robin (one atomic counter).
//   - type failover sends every request to the first URL that is up, in
//     the order written.
//
// A list of one URL with no retryConfig and no circuitBreaker makes one
// attempt and pays nothing for the features below: no copy, no clock.
//
// Both list types move a request that failed to connect or timed out to the
// next untried URL at once, within the same request, when it can be sent
// again (see Retries); micro-gw's load balancer did the same by default.
//
// Failover return policy (passive health, both list types): a URL that
// failed to connect or timed out is marked down for 1 s, doubled on each
// further consecutive failure up to 16 s, and skipped while down. When its
// time is over, exactly one request is let through to it as a probe (the
// others keep skipping it): a probe that gets an answer marks the URL up and
// traffic returns to it (for failover, it is first again); a failed probe
// marks it down for the next, longer, period. When every URL is down, a
// request still tries them rather than fail unsent. An HTTP error status
// does not mark a URL down.
//
// Sandbox endpoints are resolved and their Backends built (their etcd keys
// are followed), but requests use the production endpoints until
// authentication can select the sandbox by the credential's key type.
//
// # Timeouts
//
// timeoutInMillis (default 60000, or --backend-timeout) bounds each attempt,
// from sending the request to the last byte of the answer. A timeout answers
// 504 with fault 101504. A body read whole that stops short answers 504 when
// the backend stalls and 502 when its connection breaks; a streamed one is
// cut, its status having been sent.
//
// # Retries
//
// retryConfig.count is the number of retries after the first attempt. An
// attempt is retried when it failed to connect, timed out, or was answered
// with one of retryConfig.statusCodes, after waiting intervalInMillis ×
// backOffFactor^n (n = 0 for the first retry; a factor under 1 counts as
// 1), capped by maxWaitIntervalInMillis when that is set. In a list of
// several URLs a retry goes to the next URL not yet tried. When the retries
// are spent, the client gets the last answer: the backend's response, or
// the fault of the last failure.
//
// A retry wait ends early when the server shuts down, or when the client
// closes its connection (on Linux and the BSDs, where the socket can be
// peeked at): the client then gets the last answer at once.
//
// A request is sent again only when that is safe: it has no body, or its
// body was buffered. The body is buffered (at most 64 KiB, Content-Length
// known) only for lists that may send a request twice (a retryConfig, or
// more than one URL). A larger or chunked body streams to the backend and
// is never replayed, whatever the method; the one exception is a request
// that could not get a connection at all, whose body was not read yet, so
// it may still go to the next URL.
//
// # The client's faults
//
// A request body is read while it is sent to the backend, so an attempt
// can fail on either side. When reading the client's body failed
// (malformed chunks, a forbidden trailer, fewer bytes than its
// Content-Length, a client that went away or stalled), the client gets 400
// (408 for a stall) and its connection is closed; the attempt is not
// retried, does not mark a URL down, does not count for the circuit
// breaker, and is logged at debug level only. Only failures of the backend
// exchange itself count against a backend. A Connection header naming
// Content-Length or Transfer-Encoding is not allowed to remove them: the
// body keeps its framing.
//
// # Circuit breaker
//
// One breaker per endpoint list. Failures are connection errors, timeouts
// and answers with one of circuitBreaker.statusCodes. When the rolling
// window (timeWindowInMillis, in buckets of bucketSizeInMillis; defaults
// 60000 and 10000) holds at least requestVolumeThreshold requests, at least
// one of which failed, and the failed share reaches failureThreshold, the
// breaker opens: requests get 503 with fault 101503 "Runtime Error" (the
// code micro-gw gave every failure to reach the back end) and a Retry-After
// header, without calling the backend. After resetTimeInMillis one trial
// request goes through (half-open): its success closes the breaker, its
// failure opens it for another resetTimeInMillis. Retries stop while the
// breaker is not closed.
//
// # CORS
//
// With x-wso2-cors enabled, the gateway answers preflights (OPTIONS with
// Origin and Access-Control-Request-Method) for every path of the API,
// whether or not the definition declares OPTIONS, with 200 and no body:
// Access-Control-Allow-Origin (the request's origin, or * when the origins
// are * and credentials are off), -Allow-Credentials, -Allow-Methods and
// -Allow-Headers. An origin, method or header that is not allowed gets the
// 200 without CORS headers. accessControlAllowMethods or
// accessControlAllowHeaders left empty (or *) allow what the preflight asks
// for; accessControlAllowOrigins left empty allows no origin. Actual
// responses, faults included, get Access-Control-Allow-Origin,
// -Allow-Credentials and -Expose-Headers for an allowed origin, Vary:
// Origin unless the answer is *, and lose any CORS headers of the backend.
// A plain OPTIONS request is proxied when the definition declares it and
// answered 405 otherwise, as with CORS off. With the extension absent or
// disabled, nothing of this happens.
//
// # Status codes
//
// Fault bodies are micro-gw's JSON. micro-gw's generated gateway answered
// 500 for 101503, whatever the cause: a backend it could not reach, or an
// open circuit breaker (Ballerina's breaker returns an error to the
// resource). Here a backend that cannot be reached is 502 and an open
// breaker is 503 with Retry-After, both with 101503; a resource with no
// endpoint is 503 with 101505.
package proxy
