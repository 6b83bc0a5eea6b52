//go:build !unix

package gateway

// openFilesLimit reports no limit where the platform has no RLIMIT_NOFILE.
func openFilesLimit() (soft, hard uint64, ok bool) { return 0, 0, false }
