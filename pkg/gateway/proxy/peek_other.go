//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package proxy

// canPeek is false where the socket cannot be peeked at: a retry wait then
// ends early only on shutdown.
const canPeek = false

func peek(fd uintptr) (int, error) { return 0, nil }
