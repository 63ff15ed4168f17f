package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// AppInfo describes a hosted app without its secrets.
type AppInfo struct {
	AppID      string     `json:"appid"`
	Type       AppType    `json:"type"`
	Name       string     `json:"name,omitempty"`
	OriginalID string     `json:"original_id"`
	Mode       Mode       `json:"mode"`
	PushURL    string     `json:"push_url"`
	Users      []UserInfo `json:"users"`
}

// UserInfo is a user of an app as the emulator sees it now.
type UserInfo struct {
	UserConfig
	Subscribed    bool  `json:"subscribed"`
	SubscribeTime int64 `json:"subscribe_time,omitempty"`
	// Blacklisted is true when the account has blacklisted the user.
	Blacklisted bool `json:"blacklisted,omitempty"`
}

// Apps lists the hosted apps in configuration order, without secrets.
func (e *Emulator) Apps() []AppInfo {
	out := make([]AppInfo, 0, len(e.appOrder))
	for _, id := range e.appOrder {
		out = append(out, e.appInfo(e.apps[id]))
	}
	return out
}

func (e *Emulator) appInfo(a *app) AppInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	info := AppInfo{
		AppID: a.cfg.AppID, Type: a.cfg.Type, Name: a.cfg.Name, OriginalID: a.cfg.OriginalID, Mode: a.cfg.Mode,
		PushURL: a.pushURL, Users: make([]UserInfo, 0, len(a.users)),
	}
	for _, u := range a.users {
		ui := UserInfo{UserConfig: u.UserConfig, Subscribed: u.subscribed, Blacklisted: a.blacklisted(u.OpenID)}
		ui.UserConfig.Subscribed = nil
		if !u.subscribeTime.IsZero() {
			ui.SubscribeTime = u.subscribeTime.Unix()
		}
		info.Users = append(info.Users, ui)
	}
	return info
}

// controlError is the answer of a failed control API call.
type controlError struct {
	Error string `json:"error"`
}

func controlFail(w http.ResponseWriter, status int, err error) {
	writeStatusJSON(w, status, controlError{Error: err.Error()})
}

// decodeControl decodes a control API JSON body into v (unknown fields
// refused).
func decodeControl(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("emulator: bad JSON body: " + err.Error())
	}
	return nil
}

// clockState is the answer of the clock endpoints.
type clockState struct {
	Now    time.Time `json:"now"`
	Unix   int64     `json:"unix"`
	Offset Duration  `json:"offset"`
}

func (e *Emulator) clockState() clockState {
	now := e.Now()
	e.timeMu.Lock()
	off := e.offset
	e.timeMu.Unlock()
	return clockState{Now: now, Unix: now.Unix(), Offset: Duration(off)}
}

// controlMux builds the control API (see the package documentation).
func (e *Emulator) controlMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /_emulator/apps", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"apps": e.Apps()})
	})
	m.HandleFunc("GET /_emulator/apps/{appid}", func(w http.ResponseWriter, r *http.Request) {
		a := e.app(r.PathValue("appid"))
		if a == nil {
			controlFail(w, http.StatusNotFound, ErrUnknownApp)
			return
		}
		writeJSON(w, e.appInfo(a))
	})
	m.HandleFunc("PATCH /_emulator/apps/{appid}", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PushURL *string `json:"push_url"`
		}
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		appID := r.PathValue("appid")
		if req.PushURL != nil {
			if err := e.SetPushURL(appID, *req.PushURL); err != nil {
				status := http.StatusBadRequest
				if errors.Is(err, ErrUnknownApp) {
					status = http.StatusNotFound
				}
				controlFail(w, status, err)
				return
			}
		}
		a := e.app(appID)
		if a == nil {
			controlFail(w, http.StatusNotFound, ErrUnknownApp)
			return
		}
		writeJSON(w, e.appInfo(a))
	})
	m.HandleFunc("POST /_emulator/apps/{appid}/push", func(w http.ResponseWriter, r *http.Request) {
		var req PushRequest
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		res, err := e.Push(r.Context(), r.PathValue("appid"), req)
		if err != nil {
			status := http.StatusBadRequest
			switch {
			case errors.Is(err, ErrUnknownApp):
				status = http.StatusNotFound
			case errors.Is(err, ErrNoPushURL), errors.Is(err, ErrNotSubscribed):
				status = http.StatusConflict
			}
			controlFail(w, status, err)
			return
		}
		writeJSON(w, res)
	})
	m.HandleFunc("GET /_emulator/apps/{appid}/messages", func(w http.ResponseWriter, r *http.Request) {
		log, err := e.Conversation(r.PathValue("appid"), r.URL.Query().Get("user"))
		if err != nil {
			controlFail(w, http.StatusNotFound, err)
			return
		}
		if log == nil {
			log = []ConversationEntry{}
		}
		writeJSON(w, map[string]any{"messages": log})
	})
	m.HandleFunc("GET /_emulator/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, e.clockState())
	})
	m.HandleFunc("POST /_emulator/clock", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Advance Duration `json:"advance"`
		}
		if err := decodeControl(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		if _, err := e.Advance(time.Duration(req.Advance)); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, e.clockState())
	})
	m.HandleFunc("GET /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"faults": e.Faults()})
	})
	m.HandleFunc("POST /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := decodeControl(r, &f); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		if err := e.InjectFault(f); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, map[string]any{"faults": e.Faults()})
	})
	m.HandleFunc("DELETE /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		e.ClearFaults()
		writeJSON(w, map[string]any{"faults": []Fault{}})
	})
	m.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, e.Stats())
	})
	m.HandleFunc("DELETE /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		e.ResetStats()
		writeJSON(w, e.Stats())
	})
	e.payControlRoutes(m)
	e.wxaControlRoutes(m)
	e.componentControlRoutes(m)
	e.articleControlRoutes(m)
	e.subscribeControlRoutes(m)
	e.kfControlRoutes(m)
	e.webviewControlRoutes(m)
	m.HandleFunc("/_emulator/", func(w http.ResponseWriter, r *http.Request) {
		controlFail(w, http.StatusNotFound, errors.New("emulator: no such control endpoint: "+r.Method+" "+r.URL.Path))
	})
	return m
}
