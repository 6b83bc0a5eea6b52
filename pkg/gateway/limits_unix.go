//go:build unix

package gateway

import "syscall"

// openFilesLimit returns the process's soft and hard limits on open files
// (RLIMIT_NOFILE). Go raises the soft limit to the hard one at start, so
// the soft limit read here is normally the hard one.
func openFilesLimit() (soft, hard uint64, ok bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0, false
	}
	return uint64(l.Cur), uint64(l.Max), true //nolint:unconvert // int64 on some platforms
}
