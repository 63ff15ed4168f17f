package emulator

import (
	"errors"
	"net/http"
)

// kfControlRoutes adds the customer-service and mass-send state to the
// control API:
//
//	GET  /_emulator/apps/{appid}/kf         {"accounts":[KfAccount...],"sessions":[KfSession...]}
//	POST /_emulator/apps/{appid}/kf/accept  {"kf_account"} (the invited worker accepts) → same as GET
//	POST /_emulator/apps/{appid}/kf/status  {"kf_account","status":0|1} → same as GET
//	POST /_emulator/apps/{appid}/kf/switch  {"openid","kf_account"} (the session moves to that worker) → same as GET
//	GET  /_emulator/apps/{appid}/mass       {"jobs":[MassJob...]}
func (e *Emulator) kfControlRoutes(m *http.ServeMux) {
	fail := func(w http.ResponseWriter, err error) {
		status := http.StatusBadRequest
		if errors.Is(err, ErrUnknownApp) || errors.Is(err, ErrUnknownKfAccount) {
			status = http.StatusNotFound
		}
		controlFail(w, status, err)
	}
	state := func(w http.ResponseWriter, appID string) {
		accounts, err := e.KfAccounts(appID)
		if err != nil {
			fail(w, err)
			return
		}
		sessions, _ := e.KfSessions(appID)
		if sessions == nil {
			sessions = []KfSession{}
		}
		writeJSON(w, map[string]any{"accounts": accounts, "sessions": sessions})
	}
	m.HandleFunc("GET /_emulator/apps/{appid}/kf", func(w http.ResponseWriter, r *http.Request) {
		state(w, r.PathValue("appid"))
	})
	m.HandleFunc("POST /_emulator/apps/{appid}/kf/accept", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			KfAccount string `json:"kf_account"`
		}
		if err := decodeControl(r, &req); err != nil {
			fail(w, err)
			return
		}
		if err := e.AcceptKfInvite(r.PathValue("appid"), req.KfAccount); err != nil {
			fail(w, err)
			return
		}
		state(w, r.PathValue("appid"))
	})
	m.HandleFunc("POST /_emulator/apps/{appid}/kf/status", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			KfAccount string `json:"kf_account"`
			Status    int    `json:"status"`
		}
		if err := decodeControl(r, &req); err != nil {
			fail(w, err)
			return
		}
		if err := e.SetKfStatus(r.PathValue("appid"), req.KfAccount, req.Status); err != nil {
			fail(w, err)
			return
		}
		state(w, r.PathValue("appid"))
	})
	m.HandleFunc("POST /_emulator/apps/{appid}/kf/switch", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			OpenID    string `json:"openid"`
			KfAccount string `json:"kf_account"`
		}
		if err := decodeControl(r, &req); err != nil {
			fail(w, err)
			return
		}
		if err := e.SwitchKfSession(r.PathValue("appid"), req.OpenID, req.KfAccount); err != nil {
			fail(w, err)
			return
		}
		state(w, r.PathValue("appid"))
	})
	m.HandleFunc("GET /_emulator/apps/{appid}/mass", func(w http.ResponseWriter, r *http.Request) {
		jobs, err := e.MassJobs(r.PathValue("appid"))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, map[string]any{"jobs": jobs})
	})
}
