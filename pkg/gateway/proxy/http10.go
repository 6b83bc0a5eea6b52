package proxy

import (
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// http1 reports whether a request line's version, "HTTP/d.d" as fasthttp
// checked, is HTTP/1.x. nginx also serves 1.2 to 1.9; fasthttp serves every
// version but 1.1 as 1.0, which any 1.x client can read.
func http1(proto []byte) bool {
	return len(proto) == len("HTTP/1.1") && proto[5] == '1'
}

// respondHTTP10 answers an HTTP/1.0 client, which cannot read chunked
// encoding, with resp. A body of known length is handed to the server as
// is; one of unknown length is written raw on the hijacked connection,
// which is then closed to mark its end. fasthttp clears a hijacked
// connection's deadlines, so that write gets writeTimeout itself, as every
// other answer does: a client that stops reading cannot hold the
// connection and the backend's for good.
func respondHTTP10(ctx *fasthttp.RequestCtx, resp *fasthttp.Response, writeTimeout time.Duration) {
	stream := resp.BodyStream()
	if stream == nil || resp.Header.ContentLength() >= 0 {
		resp.Header.CopyTo(&ctx.Response.Header)
		if stream != nil {
			// resp is left to the garbage collector: releasing it would
			// close the stream the server is about to write.
			ctx.Response.SetBodyStream(stream, resp.Header.ContentLength())
		} else {
			ctx.Response.SetBody(resp.Body())
			fasthttp.ReleaseResponse(resp)
		}
		return
	}
	ctx.Response.SetStatusCode(resp.StatusCode()) // for the access log
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		defer fasthttp.ReleaseResponse(resp)
		resp.Header.Del(fasthttp.HeaderTransferEncoding)
		resp.Header.SetConnectionClose()
		if c.SetWriteDeadline(time.Now().Add(writeTimeout)) != nil {
			return
		}
		if _, err := c.Write(resp.Header.Header()); err == nil {
			io.Copy(c, stream) //nolint:errcheck // the client sees a short body
		}
	})
}
