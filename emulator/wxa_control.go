package emulator

import (
	"errors"
	"net/http"
)

// wxaControlRoutes adds the simulated Mini Program client to the control
// API (see the package documentation):
//
//	POST /_emulator/apps/{appid}/wx.login                   {"openid"} → {"code"}
//	POST /_emulator/apps/{appid}/wx.getUserInfo             {"openid"} → WXGetUserInfoResult
//	POST /_emulator/apps/{appid}/getPhoneNumber             {"openid"} → {"code"}
//	POST /_emulator/apps/{appid}/wx.requestSubscribeMessage {"openid","tmplIds":[...],"reject":false}
//	                                                        → {"errMsg":"requestSubscribeMessage:ok","<id>":"accept",...}
//
// Errors are {"error"}: 404 an unknown app or user, 409 an Official
// Account or (wx.getUserInfo) a user who has not logged in, 400 a bad body
// or an unknown template.
func (e *Emulator) wxaControlRoutes(m *http.ServeMux) {
	type userReq struct {
		OpenID string `json:"openid"`
	}
	m.HandleFunc("POST /_emulator/apps/{appid}/wx.login", func(w http.ResponseWriter, r *http.Request) {
		var req userReq
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		code, err := e.WXLogin(r.PathValue("appid"), req.OpenID)
		if err != nil {
			wxaControlFail(w, err)
			return
		}
		writeJSON(w, map[string]string{"code": code})
	})
	m.HandleFunc("POST /_emulator/apps/{appid}/wx.getUserInfo", func(w http.ResponseWriter, r *http.Request) {
		var req userReq
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		res, err := e.WXGetUserInfo(r.PathValue("appid"), req.OpenID)
		if err != nil {
			wxaControlFail(w, err)
			return
		}
		writeJSON(w, res)
	})
	m.HandleFunc("POST /_emulator/apps/{appid}/getPhoneNumber", func(w http.ResponseWriter, r *http.Request) {
		var req userReq
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		code, err := e.WXGetPhoneNumber(r.PathValue("appid"), req.OpenID)
		if err != nil {
			wxaControlFail(w, err)
			return
		}
		writeJSON(w, map[string]string{"code": code})
	})
	m.HandleFunc("POST /_emulator/apps/{appid}/wx.requestSubscribeMessage", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			OpenID  string   `json:"openid"`
			TmplIDs []string `json:"tmplIds"`
			Reject  bool     `json:"reject"`
		}
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		res, err := e.WXRequestSubscribeMessage(r.PathValue("appid"), req.OpenID, req.TmplIDs, !req.Reject)
		if err != nil {
			wxaControlFail(w, err)
			return
		}
		out := map[string]string{"errMsg": "requestSubscribeMessage:ok"}
		for k, v := range res {
			out[k] = v
		}
		writeJSON(w, out)
	})
}

// wxaControlFail answers a Mini Program control error with its status.
func wxaControlFail(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, ErrUnknownApp), errors.Is(err, ErrUnknownUser):
		status = http.StatusNotFound
	case errors.Is(err, ErrNotMiniProgram), errors.Is(err, ErrNoSession):
		status = http.StatusConflict
	}
	controlFail(w, status, err)
}
