package emulator

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func init() {
	handle("/cgi-bin/componentloginpage", (*Emulator).serveComponentLoginPage)
	handle("/safe/bindcomponent", (*Emulator).serveComponentLoginPage)
	handle("/wxaopen/safe/bindcomponent", (*Emulator).serveComponentLoginPage)
	handle("/cgi-bin/componentloginpage_reply", (*Emulator).serveComponentLoginReply)
	handle("/safe/bindcomponent_reply", (*Emulator).serveComponentLoginReply)
	handle("/wxaopen/safe/bindcomponent_reply", (*Emulator).serveComponentLoginReply)
}

//go:embed templates/component_*.html
var componentTemplateFS embed.FS

var componentTemplates = template.Must(template.ParseFS(componentTemplateFS, "templates/component_*.html"))

// ComponentPageErrorHeader is the response header in which the emulator's
// authorization page names the parameter it refuses (component_appid,
// pre_auth_code, redirect_uri, auth_type, biz_appid, accounts), so that
// browser-less tests can assert it; the real page shows a message only.
const ComponentPageErrorHeader = "X-Wxkit-Error"

// componentPage is the data of component_login.html.
type componentPage struct {
	ComponentName    string
	ComponentInitial string
	Action           string
	PageID           string
	Accounts         []componentPageAccount
}

// componentPageAccount is one account the simulated admin may authorize.
type componentPageAccount struct {
	AppID      string
	Name       string
	Initial    string
	OriginalID string
	Kind       string
	Authorized bool
}

// componentResultPage is the data of component_result.html.
type componentResultPage struct {
	Error   bool
	Title   string
	Message string
	Hint    string
}

// accountOffered reports whether the authorization page, opened with
// authType (1 Official Accounts, 2 Mini Programs, 3 or more or 0: both) and
// bizAppID (when not empty, that account only), offers a.
func accountOffered(a *app, authType int, bizAppID string) bool {
	if bizAppID != "" && a.cfg.AppID != bizAppID {
		return false
	}
	switch authType {
	case 1:
		return a.cfg.Type == AppTypeOfficialAccount
	case 2:
		return a.cfg.Type == AppTypeMiniProgram
	}
	return true
}

// writeComponentPage renders one of the component templates.
func (e *Emulator) writeComponentPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := componentTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		e.logger.Error("emulator: component page", "template", name, "err", err)
		http.Error(w, "emulator: page error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeComponentError answers the error page (HTTP 200, as the platform's
// pages do) naming param in ComponentPageErrorHeader.
func (e *Emulator) writeComponentError(w http.ResponseWriter, param, message, hint string) {
	if rec, ok := w.(*callRecorder); ok {
		rec.status = http.StatusBadRequest // counted as an error in stats
	}
	w.Header().Set(ComponentPageErrorHeader, param)
	e.writeComponentPage(w, http.StatusOK, "component_result.html", componentResultPage{Error: true, Title: "授权失败", Message: message, Hint: hint})
}

// serveComponentLoginPage serves the authorization page of a third-party
// platform, the PC page GET /cgi-bin/componentloginpage and the mobile one
// (H5版), at its current address GET /wxaopen/safe/bindcomponent (on the
// platform open.weixin.qq.com) and its older one GET /safe/bindcomponent
// (mp.weixin.qq.com); all take component_appid, pre_auth_code,
// redirect_uri, and optionally auth_type 1..6 and biz_appid. The page
// lists the hosted accounts the simulated admin may authorize (auth_type 1:
// Official Accounts, 2: Mini Programs, else both; biz_appid: that one) and
// posts the choice, 授权 or 取消, to the _reply route next to it. Approving
// spends the pre_auth_code, pushes the authorized event and redirects to
// redirect_uri?auth_code=AUTH_CODE&expires_in=3600 (see
// AuthorizeComponent).
//
// Errors are a page (HTTP 200) naming the parameter in
// ComponentPageErrorHeader: an unknown component_appid; a missing,
// unknown, used or expired pre_auth_code; a redirect_uri that is not an
// absolute http(s) URL; an auth_type outside 1..6; no account to offer.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Authorization_Process_Technical_Description.html
func (e *Emulator) serveComponentLoginPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	c := e.component(q.Get("component_appid"))
	if c == nil {
		e.writeComponentError(w, "component_appid", "第三方平台参数错误", "没有 component_appid 为 "+q.Get("component_appid")+" 的第三方平台")
		return
	}
	setCallApp(r, c.cfg.AppID)
	redirectURI := q.Get("redirect_uri")
	if !absoluteHTTPURL(redirectURI) {
		e.writeComponentError(w, "redirect_uri", "回调地址错误", "redirect_uri 必须是绝对 http(s) URL")
		return
	}
	authType := 3
	if s := q.Get("auth_type"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 6 {
			e.writeComponentError(w, "auth_type", "auth_type 参数错误", "auth_type 取 1 到 6")
			return
		}
		authType = n
	}
	biz := q.Get("biz_appid")
	now := e.Now()
	code := q.Get("pre_auth_code")
	c.mu.Lock()
	pa := c.preAuth[code]
	valid := pa != nil && !pa.used && now.Before(pa.expires)
	c.mu.Unlock()
	if !valid {
		e.writeComponentError(w, "pre_auth_code", "授权链接已失效，请重新进入",
			"pre_auth_code 只能用一次，有效期 "+strconv.Itoa(int(PreAuthCodeLifetime/time.Second))+" 秒")
		return
	}
	var accounts []componentPageAccount
	for _, id := range e.appOrder {
		a := e.apps[id]
		if !accountOffered(a, authType, biz) {
			continue
		}
		name := a.cfg.Name
		if name == "" {
			name = a.cfg.AppID
		}
		kind := "公众号"
		if a.cfg.Type == AppTypeMiniProgram {
			kind = "小程序"
		}
		c.mu.Lock()
		authorized := c.auths[a.cfg.AppID] != nil
		c.mu.Unlock()
		accounts = append(accounts, componentPageAccount{
			AppID: a.cfg.AppID, Name: name, Initial: oauthInitial(name), OriginalID: a.cfg.OriginalID, Kind: kind, Authorized: authorized,
		})
	}
	if len(accounts) == 0 {
		param := "accounts"
		if biz != "" {
			param = "biz_appid"
		}
		e.writeComponentError(w, param, "没有可授权的帐号", "模拟器中没有符合 auth_type / biz_appid 的公众号或小程序（apps:）")
		return
	}
	id := randomString(32, oauthCodeAlphabet)
	c.mu.Lock()
	for k, p := range c.pages {
		if !now.Before(p.expires) {
			delete(c.pages, k)
		}
	}
	c.pages[id] = &authPage{preAuthCode: code, redirectURI: redirectURI, expires: now.Add(authPageLifetime)}
	pa.redirectURI, pa.authType, pa.bizAppID = redirectURI, authType, biz
	c.mu.Unlock()
	action := "componentloginpage_reply" // relative: the _reply route next to the page
	if strings.HasSuffix(r.URL.Path, "/bindcomponent") {
		action = "bindcomponent_reply"
	}
	e.writeComponentPage(w, http.StatusOK, "component_login.html", componentPage{
		ComponentName: c.cfg.Name, ComponentInitial: oauthInitial(c.cfg.Name), Action: action, PageID: id, Accounts: accounts,
	})
}

// serveComponentLoginReply serves the answer of the authorization page,
// POST /cgi-bin/componentloginpage_reply (or /safe/bindcomponent_reply,
// /wxaopen/safe/bindcomponent_reply) with form fields page,
// authorizer_appid and action=allow|deny. allow authorizes (see
// AuthorizeComponent) and redirects (302) to
// redirect_uri?auth_code=...&expires_in=3600; deny shows that the
// authorization was cancelled. A page answers once, within 30 minutes.
// These routes are the emulator's own: the real page's form is internal.
func (e *Emulator) serveComponentLoginReply(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		e.writeComponentError(w, "form", "请求格式错误", "")
		return
	}
	id, appID, action := r.PostForm.Get("page"), r.PostForm.Get("authorizer_appid"), r.PostForm.Get("action")
	if action != "allow" && action != "deny" {
		e.writeComponentError(w, "action", "请求格式错误", "action 必须是 allow 或 deny")
		return
	}
	now := e.Now()
	var (
		c *component
		p *authPage
	)
	for _, cid := range e.comp.order {
		cc := e.comp.byID[cid]
		cc.mu.Lock()
		if got := cc.pages[id]; got != nil && id != "" {
			c, p = cc, got
			delete(cc.pages, id) // a page answers once
		}
		cc.mu.Unlock()
		if c != nil {
			break
		}
	}
	if p == nil || !now.Before(p.expires) {
		e.writeComponentError(w, "page", "授权页面已过期，请重新进入", "授权页面只能提交一次，30 分钟内有效")
		return
	}
	setCallApp(r, c.cfg.AppID)
	if action == "deny" {
		e.writeComponentPage(w, http.StatusOK, "component_result.html", componentResultPage{
			Title: "已取消授权", Message: "你没有授权 " + c.cfg.Name + " 管理帐号。",
		})
		return
	}
	res, err := e.authorize(r.Context(), c, appID, p.preAuthCode, p.redirectURI)
	if err != nil {
		param := "authorizer_appid"
		if errors.Is(err, ErrInvalidPreAuthCode) {
			param = "pre_auth_code"
		}
		e.writeComponentError(w, param, "授权失败", err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, res.Redirect, http.StatusFound)
}
