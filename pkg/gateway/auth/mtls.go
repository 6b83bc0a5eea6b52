package auth

import (
	"crypto/tls"
	"net"
)

// VerifiedClientCert reports whether a TLS connection presented a client
// certificate that verified against the --client-ca bundle. The HTTPS
// listener asks for certificates with tls.VerifyClientCertIfGiven, so a
// connection has a verified chain, no certificate at all, or it never
// completed its handshake (a certificate that does not verify fails it).
// A nil state (plain HTTP) has none.
func VerifiedClientCert(cs *tls.ConnectionState) bool {
	return cs != nil && len(cs.VerifiedChains) > 0
}

// VerifiedClientConn is VerifiedClientCert for the connection a request
// came on (fasthttp's RequestCtx.Conn()): false unless it is a *tls.Conn.
// Unlike RequestCtx.TLSConnectionState, it allocates nothing.
func VerifiedClientConn(c net.Conn) bool {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return false
	}
	cs := tc.ConnectionState()
	return VerifiedClientCert(&cs)
}
