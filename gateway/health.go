package gateway

import (
	"github.com/wxkit/wxkit"

	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// healthz serves GET /healthz: 200 "ok" while the process serves requests
// (liveness; it checks no dependency, so that an outage of a store does
// not make an orchestrator restart every instance).
func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// readyStatus is the body of GET /readyz.
type readyStatus struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // name → "ok" or why not
}

// readyz serves GET /readyz: every check of the stores (each store
// answers a ping within 2 s; the SQL schema has every migration of this
// binary) run concurrently; 200 with {"ready":true,"checks":{…}} when all
// pass, else 503 with the reason of each failing check. Reasons carry no
// secret (URLs are never in them).
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	st := readyStatus{Ready: true, Checks: make(map[string]string, len(g.stores.checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range g.stores.checks {
		wg.Go(func() {
			err := c.check(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				st.Ready = false
				st.Checks[c.name] = wxkit.ScrubError(err).Error()
				return
			}
			st.Checks[c.name] = "ok"
		})
	}
	wg.Wait()
	w.Header().Set("Cache-Control", "no-store")
	if !st.Ready {
		g.logger.LogAttrs(r.Context(), slog.LevelWarn, "readyz: not ready", slog.Any("checks", st.Checks))
		writeJSON(w, http.StatusServiceUnavailable, st)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
