package emulator

import (
	"errors"
	"net/http"
)

// subscribeControlRoutes adds the simulated subscription dialog of
// Official Accounts to the control API (see the package documentation):
//
//	POST /_emulator/apps/{appid}/subscribe-popup {"openid","template_id","accept":true,"scene":1,"settings":false}
//	                                             → {"openid","template_id","status":"accept","push":PushResult}
//	GET  /_emulator/apps/{appid}/templates       → {"templates":[TemplateInfo...],"subscribe_templates":[...]}
//
// Errors are {"error"}: 404 an unknown app or user, 409 a Mini Program,
// 400 a bad body, an unknown template, a bad scene or an acceptance from
// the settings page.
func (e *Emulator) subscribeControlRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /_emulator/apps/{appid}/subscribe-popup", func(w http.ResponseWriter, r *http.Request) {
		var req SubscribePopupRequest
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		res, err := e.SubscribePopup(r.Context(), r.PathValue("appid"), req)
		if err != nil {
			status := http.StatusBadRequest
			switch {
			case errors.Is(err, ErrUnknownApp), errors.Is(err, ErrUnknownUser):
				status = http.StatusNotFound
			case errors.Is(err, ErrNotOfficialAccount):
				status = http.StatusConflict
			}
			controlFail(w, status, err)
			return
		}
		writeJSON(w, res)
	})
	m.HandleFunc("GET /_emulator/apps/{appid}/templates", func(w http.ResponseWriter, r *http.Request) {
		appID := r.PathValue("appid")
		tpls, err := e.Templates(appID)
		if err != nil {
			controlFail(w, http.StatusNotFound, err)
			return
		}
		subs, _ := e.SubscribeTemplates(appID)
		if tpls == nil {
			tpls = []TemplateInfo{}
		}
		if subs == nil {
			subs = []TemplateInfo{}
		}
		writeJSON(w, map[string]any{"templates": tpls, "subscribe_templates": subs})
	})
}
