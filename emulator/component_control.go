package emulator

import (
	"errors"
	"net/http"
	"time"
)

// componentControlRoutes adds the Open Platform to the control API (see
// the package documentation):
//
//	GET   /_emulator/components                             {"components":[ComponentInfo...]}
//	GET   /_emulator/components/{component_appid}           ComponentInfo
//	PATCH /_emulator/components/{component_appid}           {"push_url","message_url"} → ComponentInfo
//	POST  /_emulator/components/{component_appid}/ticket    → ComponentPush (a fresh ticket pushed now)
//	POST  /_emulator/components/{component_appid}/authorize {"authorizer_appid","pre_auth_code","redirect_uri"}
//	                                                        → {"redirect","auth_code","expires_in","event"}
//	POST  /_emulator/components/{component_appid}/unauthorize {"authorizer_appid"} → {"event"}
//	POST  /_emulator/components/{component_appid}/release-check {"authorizer_appid","timeout"}
//	                                                        → {"passed","steps":[{"name","passed","detail"}]}
//
// Errors are {"error"}: 404 an unknown platform or account, 409 a state
// that does not allow the call (no push_url or message_url, an account
// that has not authorized the platform, a pre_auth_code that is used or
// expired, an account the page does not offer), 400 a bad body.
func (e *Emulator) componentControlRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /_emulator/components", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"components": e.Components()})
	})
	m.HandleFunc("GET /_emulator/components/{component_appid}", func(w http.ResponseWriter, r *http.Request) {
		info, err := e.Component(r.PathValue("component_appid"))
		if err != nil {
			componentControlFail(w, err)
			return
		}
		writeJSON(w, info)
	})
	m.HandleFunc("PATCH /_emulator/components/{component_appid}", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PushURL    *string `json:"push_url"`
			MessageURL *string `json:"message_url"`
		}
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		id := r.PathValue("component_appid")
		if err := e.SetComponentURLs(id, req.PushURL, req.MessageURL); err != nil {
			componentControlFail(w, err)
			return
		}
		info, _ := e.Component(id)
		writeJSON(w, info)
	})
	m.HandleFunc("POST /_emulator/components/{component_appid}/ticket", func(w http.ResponseWriter, r *http.Request) {
		p, err := e.PushComponentTicket(r.Context(), r.PathValue("component_appid"))
		if err != nil {
			componentControlFail(w, err)
			return
		}
		writeJSON(w, p)
	})
	m.HandleFunc("POST /_emulator/components/{component_appid}/authorize", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			AuthorizerAppID string `json:"authorizer_appid"`
			PreAuthCode     string `json:"pre_auth_code"`
			RedirectURI     string `json:"redirect_uri"`
		}
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		res, err := e.AuthorizeComponent(r.Context(), r.PathValue("component_appid"), req.AuthorizerAppID, req.PreAuthCode, req.RedirectURI)
		if err != nil {
			componentControlFail(w, err)
			return
		}
		writeJSON(w, res)
	})
	m.HandleFunc("POST /_emulator/components/{component_appid}/unauthorize", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			AuthorizerAppID string `json:"authorizer_appid"`
		}
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		p, err := e.UnauthorizeComponent(r.Context(), r.PathValue("component_appid"), req.AuthorizerAppID)
		if err != nil {
			componentControlFail(w, err)
			return
		}
		writeJSON(w, map[string]any{"event": p})
	})
	m.HandleFunc("POST /_emulator/components/{component_appid}/release-check", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			AuthorizerAppID string   `json:"authorizer_appid"`
			Timeout         Duration `json:"timeout"`
		}
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		res, err := e.ReleaseCheck(r.Context(), r.PathValue("component_appid"), req.AuthorizerAppID, time.Duration(req.Timeout))
		if err != nil {
			componentControlFail(w, err)
			return
		}
		writeJSON(w, res)
	})
}

// componentControlFail answers an Open Platform control error with its
// status.
func componentControlFail(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, ErrUnknownComponent), errors.Is(err, ErrUnknownApp), errors.Is(err, ErrUnknownUser):
		status = http.StatusNotFound
	case errors.Is(err, ErrNoPushURL), errors.Is(err, ErrNoMessageURL), errors.Is(err, ErrNotAuthorized),
		errors.Is(err, ErrInvalidPreAuthCode), errors.Is(err, ErrAccountNotOffered), errors.Is(err, ErrNoRedirectURI):
		status = http.StatusConflict
	}
	controlFail(w, status, err)
}
