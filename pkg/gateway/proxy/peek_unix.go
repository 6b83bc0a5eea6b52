//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package proxy

import "syscall"

const canPeek = true

// peek reads one byte from the socket fd without consuming it; the socket
// is non-blocking, so it returns EAGAIN when there is nothing to read.
func peek(fd uintptr) (int, error) {
	var b [1]byte
	n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
	return n, err
}
