package runtime

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/micro-gw/micro-gw/pkg/runtime/discovery"
	"github.com/micro-gw/micro-gw/pkg/runtime/spec"
)

// adminServer is the read-only admin listener: GET /status and GET /health.
// It sees little traffic, so it uses net/http.
type adminServer struct {
	srv *http.Server
}

// Status is the JSON document of GET /status on the admin listener.
type Status struct {
	Project        string            `json:"project"`
	MicroGWVersion string            `json:"microgw_version"`
	StartedAt      time.Time         `json:"started_at"`
	APIs           []APIStatus       `json:"apis"`
	Discovery      *discovery.Status `json:"discovery,omitempty"`
}

// APIStatus describes one API compiled into the gateway.
type APIStatus struct {
	Title     string `json:"title"`
	Version   string `json:"version"`
	BasePath  string `json:"base_path"`
	File      string `json:"file,omitempty"`
	Resources int    `json:"resources"`
}

func newAdminServer(p Program, g *spec.Gateway, resolver *discovery.Resolver) *adminServer {
	base := Status{Project: p.Project, MicroGWVersion: p.MicroGWVersion, StartedAt: time.Now().UTC()}
	for _, a := range g.APIs {
		base.APIs = append(base.APIs, APIStatus{Title: a.Title, Version: a.Version, BasePath: a.BasePath, File: a.File, Resources: len(a.Resources)})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		s := base
		if resolver != nil {
			d := resolver.Status()
			s.Discovery = &d
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(s) //nolint:errcheck // the client went away
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"healthy"}`)) //nolint:errcheck // the client went away
	})
	return &adminServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
}

func (a *adminServer) serve(ln net.Listener, log *slog.Logger) {
	if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("admin listener stopped", "addr", ln.Addr().String(), "error", err)
	}
}
