package emulator

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"
)

func init() {
	handle("/connect/oauth2/authorize", (*Emulator).serveOAuthAuthorize)
	handle("/connect/oauth2/authorize_reply", (*Emulator).serveOAuthAuthorizeReply)
}

//go:embed templates/oauth_*.html
var oauthTemplateFS embed.FS

var oauthTemplates = template.Must(template.ParseFS(oauthTemplateFS, "templates/oauth_*.html"))

// OAuthErrcodeHeader is the response header in which the emulator's
// authorize page states the errcode it shows (the real page shows it in the
// HTML only), so that browser-less tests can assert it.
const OAuthErrcodeHeader = "X-Wxkit-Errcode"

// oauthPageErrors are the errors the authorize page shows, with the
// platform's texts.
var oauthPageErrors = map[int]string{
	10003: "redirect_uri域名与后台配置不一致",
	10004: "此公众号被封禁",
	10005: "此公众号并没有这些scope的权限",
	10010: "scope不能为空",
	10011: "redirect_uri不能为空",
	10012: "appid不能为空",
	40013: "appid 参数错误",
	40097: "response_type 参数错误",
}

// oauthErrorPage is the data of oauth_error.html.
type oauthErrorPage struct {
	Message string
	Code    int
	Hint    string
}

// writeOAuthErrorPage answers the platform's error page for code (HTTP 200,
// as the platform does), with code in OAuthErrcodeHeader and an emulator
// hint under it.
func (e *Emulator) writeOAuthErrorPage(w http.ResponseWriter, code int, hint string) {
	if rec, ok := w.(*callRecorder); ok {
		rec.errCode = code
	}
	w.Header().Set(OAuthErrcodeHeader, strconv.Itoa(code))
	e.writeOAuthPage(w, http.StatusOK, "oauth_error.html", oauthErrorPage{Message: oauthPageErrors[code], Code: code, Hint: hint})
}

// writeOAuthPage renders one of the OAuth templates.
func (e *Emulator) writeOAuthPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := oauthTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		e.logger.Error("emulator: oauth page", "template", name, "err", err)
		http.Error(w, "emulator: page error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// oauthConsentPage is the data of oauth_consent.html.
type oauthConsentPage struct {
	AppName    string
	AppInitial string
	UserInfo   bool // snsapi_userinfo: consent; else a user picker
	ConsentID  string
	Users      []oauthPageUser
}

// oauthPageUser is one simulated user offered on the consent page.
type oauthPageUser struct {
	OpenID     string
	Nickname   string
	Initial    string
	HeadImgURL string
}

// serveOAuthAuthorize serves the authorize page of the open host:
// GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope&state
// (the #wechat_redirect fragment never reaches a server).
//
// Errors are shown as the platform shows them, as an HTML page with HTTP
// 200, the errcode also in the X-Wxkit-Errcode header: 10012 appid, 10011
// redirect_uri, 10010 scope missing; 40013 unknown appid; 10003 redirect_uri
// not an absolute http(s) URL on one of the app's OAuth domains (see
// oauthDomains); 10005 a scope other than snsapi_base / snsapi_userinfo;
// 40097 response_type other than code. state is optional.
//
// In the emulator's web view (a framed request with WebviewUserCookie), the
// phone's user authorizes: silently with snsapi_base, on the consent page
// (that user only) with snsapi_userinfo.
//
// Otherwise, when an auto-approve user is set (SetOAuthAutoApprove), the browser
// is redirected (302) at once to redirect_uri?code=CODE&state=STATE. With
// snsapi_base it is redirected silently too when the app has exactly one
// user; with several, a page asks which simulated user is browsing (the
// emulator has no real login). With snsapi_userinfo the consent page is
// shown: app name, "申请获取你的昵称、头像", a user picker and 拒绝 / 允许,
// posted to /connect/oauth2/authorize_reply.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#0
func (e *Emulator) serveOAuthAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	appID, redirectURI, scope := q.Get("appid"), q.Get("redirect_uri"), q.Get("scope")
	switch {
	case appID == "":
		e.writeOAuthErrorPage(w, 10012, "")
		return
	case redirectURI == "":
		e.writeOAuthErrorPage(w, 10011, "")
		return
	case scope == "":
		e.writeOAuthErrorPage(w, 10010, "")
		return
	}
	a := e.app(appID)
	if a == nil {
		e.writeOAuthErrorPage(w, 40013, "没有 appid 为 "+appID+" 的公众号")
		return
	}
	u, err := url.Parse(redirectURI)
	domains := oauthDomains(a)
	if err != nil || !oauthRedirectAllowed(domains, u) {
		hint := "redirect_uri 必须是绝对 http(s) URL"
		if err == nil && u.Host != "" {
			hint = "把 " + u.Host + " 加入该公众号的 oauth.domains（当前：" + oauthJoinDomains(domains) + "）"
		}
		e.writeOAuthErrorPage(w, 10003, hint)
		return
	}
	if scope != oauthScopeBase && scope != oauthScopeUserInfo {
		e.writeOAuthErrorPage(w, 10005, "公众号网页授权只支持 snsapi_base 与 snsapi_userinfo")
		return
	}
	if q.Get("response_type") != "code" {
		e.writeOAuthErrorPage(w, 40097, "response_type 必须是 code")
		return
	}
	state := q.Get("state")
	st := oauthOf(a)
	now := e.Now()

	st.mu.Lock()
	auto := st.autoApprove
	st.mu.Unlock()
	users := oauthPageUsers(a)
	// In the emulator's web view, the phone's user is the one browsing.
	if wv := webviewUser(r, a); wv != "" {
		if scope == oauthScopeBase {
			e.oauthRedirect(w, r, redirectURI, "code", st.issueCode(wv, scope, now), "state", state)
			return
		}
		auto = ""
		users = slices.DeleteFunc(users, func(u oauthPageUser) bool { return u.OpenID != wv })
	}
	switch {
	case len(users) == 0:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte("emulator: app " + appID + " has no simulated users to authorize as; add apps[].users\n"))
		return
	case auto != "":
		e.oauthRedirect(w, r, redirectURI, "code", st.issueCode(auto, scope, now), "state", state)
		return
	case scope == oauthScopeBase && len(users) == 1:
		e.oauthRedirect(w, r, redirectURI, "code", st.issueCode(users[0].OpenID, scope, now), "state", state)
		return
	}

	id := randomString(32, oauthCodeAlphabet)
	st.mu.Lock()
	for k, c := range st.consents {
		if !now.Before(c.expires) {
			delete(st.consents, k)
		}
	}
	st.consents[id] = &oauthConsent{redirectURI: redirectURI, scope: scope, state: state, expires: now.Add(oauthConsentLifetime)}
	st.mu.Unlock()

	name := a.cfg.Name
	if name == "" {
		name = a.cfg.AppID
	}
	e.writeOAuthPage(w, http.StatusOK, "oauth_consent.html", oauthConsentPage{
		AppName: name, AppInitial: oauthInitial(name), UserInfo: scope == oauthScopeUserInfo, ConsentID: id, Users: users,
	})
}

// serveOAuthAuthorizeReply serves POST /connect/oauth2/authorize_reply, the
// answer of the consent page (form fields consent, openid, action=allow|deny).
// allow redirects to redirect_uri?code=CODE&state=STATE as the chosen user;
// deny redirects to redirect_uri?state=STATE (no code), as the platform
// does when the user refuses. A consent page answers once and for 10
// minutes; after that, or for an unknown user, an error page (HTTP 400).
// This route is the emulator's own: the real page's form is internal.
func (e *Emulator) serveOAuthAuthorizeReply(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		e.writeOAuthPage(w, http.StatusBadRequest, "oauth_error.html", oauthErrorPage{Message: "请求格式错误"})
		return
	}
	id, openID, action := r.PostForm.Get("consent"), r.PostForm.Get("openid"), r.PostForm.Get("action")
	if action != "allow" && action != "deny" {
		e.writeOAuthPage(w, http.StatusBadRequest, "oauth_error.html", oauthErrorPage{Message: "请求格式错误", Hint: "action 必须是 allow 或 deny"})
		return
	}
	now := e.Now()
	var (
		a *app
		c *oauthConsent
	)
	for _, appID := range e.appOrder {
		st := oauthOf(e.apps[appID])
		st.mu.Lock()
		if got := st.consents[id]; got != nil && id != "" {
			a, c = e.apps[appID], got
			delete(st.consents, id) // a consent page answers once
		}
		st.mu.Unlock()
		if c != nil {
			break
		}
	}
	if c == nil || !now.Before(c.expires) {
		e.writeOAuthPage(w, http.StatusBadRequest, "oauth_error.html", oauthErrorPage{Message: "授权页面已过期，请重新进入", Hint: "授权页面只能提交一次，10 分钟内有效"})
		return
	}
	setCallApp(r, a.cfg.AppID)
	if action == "deny" {
		e.oauthRedirect(w, r, c.redirectURI, "state", c.state)
		return
	}
	a.mu.Lock()
	u := a.user(openID)
	a.mu.Unlock()
	if u == nil {
		e.writeOAuthPage(w, http.StatusBadRequest, "oauth_error.html", oauthErrorPage{Message: "用户不存在", Hint: "openid 不是该公众号的模拟用户"})
		return
	}
	e.oauthRedirect(w, r, c.redirectURI, "code", oauthOf(a).issueCode(openID, c.scope, now), "state", c.state)
}

// oauthRedirect answers 302 to redirectURI with kv added to its query.
func (e *Emulator) oauthRedirect(w http.ResponseWriter, r *http.Request, redirectURI string, kv ...string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, oauthRedirectURL(redirectURI, kv...), http.StatusFound)
}

// oauthPageUsers returns the users of a for the consent page, in
// configuration order.
func oauthPageUsers(a *app) []oauthPageUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]oauthPageUser, 0, len(a.users))
	for _, u := range a.users {
		nick := u.Nickname
		if nick == "" {
			nick = "微信用户"
		}
		out = append(out, oauthPageUser{OpenID: u.OpenID, Nickname: nick, Initial: oauthInitial(nick), HeadImgURL: u.HeadImgURL})
	}
	return out
}

// oauthInitial returns the first character of s, for an avatar placeholder.
func oauthInitial(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return "?"
	}
	return string(r)
}

// oauthJoinDomains joins domains with "、", or says none are configured.
func oauthJoinDomains(domains []string) string {
	if len(domains) == 0 {
		return "未配置，且没有 push_url"
	}
	var b bytes.Buffer
	for i, d := range domains {
		if i > 0 {
			b.WriteString("、")
		}
		b.WriteString(d)
	}
	return b.String()
}
