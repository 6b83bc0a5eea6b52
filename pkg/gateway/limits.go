package gateway

import (
	"log/slog"
	"math"
)

// fdReserve is the number of file descriptors kept out of the derived
// --max-connections for everything that is not a client or backend
// connection: the listeners, etcd connections, the poller, standard
// streams, certificate files, DNS lookups.
const fdReserve = 64

// lowOpenFilesLimit is the hard limit under which the start logs a warning:
// below it the derived --max-connections is under 2,000 client connections.
const lowOpenFilesLimit = 4096

// derivedMaxConnections is the default of --max-connections for a soft
// open-files limit: (soft − 64) / 2. Every proxied request holds a client
// connection and a backend connection, so half of the descriptors left
// after the reserve go to clients; at least 1.
func derivedMaxConnections(soft uint64) int {
	if soft <= fdReserve+2 {
		return 1
	}
	return int(min((soft-fdReserve)/2, math.MaxInt32))
}

// maxConnections resolves --max-connections (0: derived from the soft
// open-files limit) and logs the limits it used, with a warning where they
// are low. It returns 0, no bound, when the platform has no limit to derive
// from and none was given.
func maxConnections(flag int, log *slog.Logger) int {
	soft, hard, ok := openFilesLimit()
	if !ok {
		if flag == 0 {
			log.Info("no open-files limit to derive --max-connections from; client connections are not bounded")
		}
		return flag
	}
	derived := derivedMaxConnections(soft)
	n := flag
	if n == 0 {
		n = derived
	}
	log.Info("open files limit", "soft", soft, "hard", hard, "max_connections", n, "derived", flag == 0)
	if soft < hard {
		log.Warn("the soft open-files limit is below the hard one although Go raises it at start; client connections are bounded by the soft one",
			"soft", soft, "hard", hard)
	}
	if hard < lowOpenFilesLimit {
		log.Warn("the open-files limit is low; raise the hard limit (ulimit -n, systemd LimitNOFILE=, docker --ulimit nofile=), see the README",
			"hard", hard, "max_connections", n)
	}
	if flag > derived {
		log.Warn("--max-connections is above what the open-files limit leaves for client and backend connections; past it accepting fails with 'too many open files' and the listeners back off",
			"max_connections", flag, "limit_allows", derived, "soft", soft)
	}
	return n
}
