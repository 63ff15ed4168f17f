package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Daily quotas of the Official Account APIs (调用频次), counted per app and
// China day. Limits.Daily overrides them by path. /cgi-bin/token and
// /cgi-bin/stable_token count their own quotas (Limits.TokenDaily,
// Limits.StableTokenDaily).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/API_Call_Limits.html
var mpDailyQuotas = map[string]int{
	"/cgi-bin/menu/create":            1000,
	"/cgi-bin/menu/get":               10000,
	"/cgi-bin/menu/delete":            1000,
	"/cgi-bin/user/info":              5000000,
	"/cgi-bin/user/get":               500,
	"/cgi-bin/user/info/updateremark": 10000,
	"/cgi-bin/media/upload":           100000,
	"/cgi-bin/media/get":              200000,
	"/cgi-bin/message/custom/send":    500000,
	"/cgi-bin/message/template/send":  100000,
	"/cgi-bin/message/mass/sendall":   100,
	"/cgi-bin/message/mass/send":      100,
	"/cgi-bin/message/mass/preview":   100,
	"/cgi-bin/qrcode/create":          100000,
	// 草稿箱 and 发布能力.
	"/cgi-bin/draft/add":              1000,
	"/cgi-bin/draft/get":              500,
	"/cgi-bin/draft/delete":           1000,
	"/cgi-bin/draft/update":           1000,
	"/cgi-bin/draft/count":            1000,
	"/cgi-bin/draft/batchget":         1000,
	"/cgi-bin/freepublish/submit":     100,
	"/cgi-bin/freepublish/get":        100,
	"/cgi-bin/freepublish/delete":     10,
	"/cgi-bin/freepublish/getarticle": 100,
	"/cgi-bin/freepublish/batchget":   100,
}

// selfCountedQuota returns the limit in effect for the paths whose routes
// count their own quota with app.takeQuota (under the path as key).
func (e *Emulator) selfCountedQuota(path string) (int, bool) {
	switch path {
	case "/cgi-bin/token":
		return e.cfg.Limits.TokenDaily, true
	case "/cgi-bin/stable_token":
		return e.cfg.Limits.StableTokenDaily, true
	}
	return 0, false
}

// maxClearQuota is how many times a month an account may clear its
// quotas (48006 beyond).
const maxClearQuota = 10

// quotaState is the per-app state of quota/get and clear_quota (guarded
// by app.mu): the calls of each path on the current China day, and the
// clear_quota calls of the current month.
type quotaState struct {
	calls      map[string]*dayCounter
	clearMonth string
	clears     int
}

func init() {
	handle("/cgi-bin/openapi/quota/get", (*Emulator).serveQuotaGet)
	handle("/cgi-bin/clear_quota", (*Emulator).serveClearQuota)
	handle("/cgi-bin/clear_quota/v2", (*Emulator).serveClearQuotaV2)
}

// quotaOf returns the quota state of a. a.mu must be held.
func quotaOf(a *app) *quotaState {
	st := appExt[quotaState](a, "mp_quota")
	if st.calls == nil {
		st.calls = map[string]*dayCounter{}
	}
	return st
}

// mpDailyLimit returns the daily quota of path and whether it has one.
func (e *Emulator) mpDailyLimit(path string) (int, bool) {
	if n, ok := e.selfCountedQuota(path); ok {
		return n, true
	}
	if n, ok := e.cfg.Limits.Daily[path]; ok {
		return n, true
	}
	n, ok := mpDailyQuotas[path]
	return n, ok
}

// meterCall counts a platform call of path against its app's daily quota
// before the route serves it and answers 45009 when the quota of the day
// is used up (it returns false then: the route must not run). Calls that
// cannot be tied to an app, and the token routes (which count their own),
// pass unmetered.
func (e *Emulator) meterCall(rec *callRecorder, path string) bool {
	a := e.app(rec.appID)
	if a == nil {
		return true
	}
	if _, ok := e.selfCountedQuota(path); ok {
		return true
	}
	limit, limited := e.mpDailyLimit(path)
	now := e.Now()
	a.mu.Lock()
	st := quotaOf(a)
	c := st.calls[path]
	if c == nil {
		c = &dayCounter{}
		st.calls[path] = c
	}
	if day := quotaDay(now); c.day != day {
		c.day, c.n = day, 0
	}
	over := limited && limit > 0 && c.n >= limit
	if !over {
		c.n++
	}
	a.mu.Unlock()
	if over {
		e.writeErr(rec, 45009)
		return false
	}
	return true
}

// quotaUsage returns the calls of path counted today. a.mu must be held.
func (e *Emulator) quotaUsage(a *app, path string, now time.Time) int {
	if _, ok := e.selfCountedQuota(path); ok {
		return a.quotaUsed(path, now)
	}
	c := quotaOf(a).calls[path]
	if c == nil || c.day != quotaDay(now) {
		return 0
	}
	return c.n
}

// serveQuotaGet serves POST /cgi-bin/openapi/quota/get {"cgi_path":"/cgi-bin/..."}:
// {"quota":{"daily_limit","used","remain"}} for the calling app today.
// Errors: 76021 (cgi_path empty, or not an API the emulator serves), 76022
// (an API without a daily quota).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/openApi/get_api_quota.html
func (e *Emulator) serveQuotaGet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CGIPath string `json:"cgi_path"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	path := req.CGIPath
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if _, served := platformRoutes[path]; !served {
		e.writeAPIError(w, mpErr(76021))
		return
	}
	limit, ok := e.mpDailyLimit(path)
	if !ok || limit <= 0 {
		e.writeAPIError(w, mpErr(76022))
		return
	}
	now := e.Now()
	a.mu.Lock()
	used := e.quotaUsage(a, path, now)
	a.mu.Unlock()
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "quota": map[string]int{
		"daily_limit": limit, "used": used, "remain": max(limit-used, 0),
	}})
}

// clearQuota resets every daily counter of a, unless it was cleared
// maxClearQuota times this month (48006). a.mu must be held.
func clearQuota(a *app, now time.Time) error {
	st := quotaOf(a)
	month := now.In(beijing).Format("2006-01")
	if st.clearMonth != month {
		st.clearMonth, st.clears = month, 0
	}
	if st.clears >= maxClearQuota {
		return mpErr(48006)
	}
	st.clears++
	clear(st.calls)
	clear(a.quotas)
	return nil
}

// serveClearQuota serves POST /cgi-bin/clear_quota {"appid"}: it sets the
// daily counters of every API of the app (the token APIs included) back to
// zero. Errors: 41002 (appid missing), 40013 (not the token's app), 48006
// (already cleared 10 times this month).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/openApi/clear_quota.html
func (e *Emulator) serveClearQuota(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID string `json:"appid"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	switch {
	case req.AppID == "":
		e.writeAPIError(w, apiErr(41002))
		return
	case req.AppID != a.cfg.AppID:
		e.writeAPIError(w, apiErr(40013))
		return
	}
	a.mu.Lock()
	err := clearQuota(a, e.Now())
	a.mu.Unlock()
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	writeJSON(w, okBody)
}

// serveClearQuotaV2 serves POST /cgi-bin/clear_quota/v2 with the form (or
// query) fields appid and appsecret, no access_token: the same as
// clear_quota, for an account whose token quota is used up. Errors: 41002,
// 41004 (appsecret missing), 40013, 40125 (wrong secret), 48006.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/en/api/apimanage/api_clearquotabyappsecret.html
func (e *Emulator) serveClearQuotaV2(w http.ResponseWriter, r *http.Request) {
	if !e.requireMethod(w, r, http.MethodPost) {
		return
	}
	appID, secret, err := clearQuotaV2Credentials(r)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	setCallApp(r, appID)
	switch {
	case appID == "":
		e.writeAPIError(w, apiErr(41002))
		return
	case secret == "":
		e.writeAPIError(w, apiErr(41004))
		return
	}
	a := e.app(appID)
	if a == nil {
		e.writeAPIError(w, apiErr(40013))
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(a.cfg.Secret)) != 1 {
		e.writeAPIError(w, apiErr(40125))
		return
	}
	a.mu.Lock()
	err = clearQuota(a, e.Now())
	a.mu.Unlock()
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	writeJSON(w, okBody)
}

// clearQuotaV2Credentials reads appid and appsecret of clear_quota/v2 from
// a JSON body, a form (urlencoded or multipart) or the query; an
// unreadable body gives 47001.
func clearQuotaV2Credentials(r *http.Request) (string, string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var v struct {
			AppID     string `json:"appid"`
			AppSecret string `json:"appsecret"`
		}
		b, err := readBody(r)
		if err != nil || (len(b) > 0 && json.Unmarshal(b, &v) != nil) {
			return "", "", apiErr(47001)
		}
		return v.AppID, v.AppSecret, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	if err := r.ParseMultipartForm(maxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return "", "", apiErr(47001)
	}
	return r.Form.Get("appid"), r.Form.Get("appsecret"), nil
}
