package emulator

import (
	"crypto/subtle"
	"net/http"
	"time"
)

func init() {
	handle("/sns/oauth2/access_token", (*Emulator).serveSNSAccessToken)
	handle("/sns/oauth2/refresh_token", (*Emulator).serveSNSRefreshToken)
	handle("/sns/userinfo", (*Emulator).serveSNSUserInfo)
	handle("/sns/auth", (*Emulator).serveSNSAuth)
}

// snsTokenReply is the answer of /sns/oauth2/access_token and refresh_token.
type snsTokenReply struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	OpenID       string `json:"openid"`
	Scope        string `json:"scope"`
	UnionID      string `json:"unionid,omitempty"`
}

// snsUserInfoReply is the answer of /sns/userinfo.
type snsUserInfoReply struct {
	OpenID     string   `json:"openid"`
	Nickname   string   `json:"nickname"`
	Sex        int      `json:"sex"`
	Province   string   `json:"province"`
	City       string   `json:"city"`
	Country    string   `json:"country"`
	HeadImgURL string   `json:"headimgurl"`
	Privilege  []string `json:"privilege"`
	UnionID    string   `json:"unionid,omitempty"`
}

// serveSNSAccessToken serves
// GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code.
// Checks, in order: 41002 appid, 41004 secret, 41008 code missing; 40002
// grant_type; 40013 unknown appid; 40125 wrong secret; 40163 code already
// used; 40029 code unknown, of another app, or older than OAuthCodeLifetime
// (5 min). Success marks the code used and answers an sns access_token
// (SNSTokenLifetime), a refresh_token (SNSRefreshTokenLifetime), the openid,
// the scope and, for snsapi_userinfo, the user's unionid when configured.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#1
func (e *Emulator) serveSNSAccessToken(w http.ResponseWriter, r *http.Request) {
	if !e.requireMethod(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	appID, secret, code := q.Get("appid"), q.Get("secret"), q.Get("code")
	switch {
	case appID == "":
		e.writeErr(w, 41002)
		return
	case secret == "":
		e.writeErr(w, 41004)
		return
	case code == "":
		e.writeErr(w, 41008)
		return
	case q.Get("grant_type") != "authorization_code":
		e.writeErr(w, 40002)
		return
	}
	a := e.app(appID)
	if a == nil {
		e.writeErr(w, 40013)
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(a.cfg.Secret)) != 1 {
		e.writeErr(w, 40125)
		return
	}
	now := e.Now()
	st := oauthOf(a)
	st.mu.Lock()
	c := st.codes[code]
	switch {
	case c != nil && c.used:
		st.mu.Unlock()
		e.writeErr(w, 40163)
		return
	case c == nil || !now.Before(c.expires):
		st.mu.Unlock()
		e.writeErr(w, 40029)
		return
	}
	c.used = true
	g := &oauthGrant{
		openID:         c.openID,
		scope:          c.scope,
		refreshToken:   newTokenValue(),
		refreshExpires: now.Add(SNSRefreshTokenLifetime),
	}
	st.pruneGrants(now)
	st.refresh[g.refreshToken] = g
	acc := st.newAccess(g, now)
	st.mu.Unlock()

	reply := snsTokenReply{
		AccessToken: acc.value, ExpiresIn: int(SNSTokenLifetime / time.Second),
		RefreshToken: g.refreshToken, OpenID: g.openID, Scope: g.scope,
	}
	if g.scope == oauthScopeUserInfo {
		a.mu.Lock()
		if u := a.user(g.openID); u != nil {
			reply.UnionID = u.UnionID
		}
		a.mu.Unlock()
	}
	writeJSON(w, reply)
}

// newAccess issues a new sns access_token for g. st.mu must be held.
func (st *oauthState) newAccess(g *oauthGrant, now time.Time) *snsAccess {
	acc := &snsAccess{value: newTokenValue(), grant: g, expires: now.Add(SNSTokenLifetime)}
	st.access[acc.value] = acc
	g.current = acc
	return acc
}

// pruneGrants forgets the grants (and their tokens) whose refresh_token
// expired more than a day ago, once there are many, so that memory stays
// bounded. st.mu must be held.
func (st *oauthState) pruneGrants(now time.Time) {
	if len(st.access) < 4096 {
		return
	}
	for v, acc := range st.access {
		if now.Sub(acc.grant.refreshExpires) > 24*time.Hour {
			delete(st.access, v)
		}
	}
	for v, g := range st.refresh {
		if now.Sub(g.refreshExpires) > 24*time.Hour {
			delete(st.refresh, v)
		}
	}
}

// serveSNSRefreshToken serves
// GET /sns/oauth2/refresh_token?appid&grant_type=refresh_token&refresh_token.
// Checks: 41002 appid, 41003 refresh_token missing; 40002 grant_type; 40013
// unknown appid; 40030 refresh_token unknown or of another app; 42002
// refresh_token older than 30 days (not extended by refreshing). As on the
// platform, a still-valid access_token is returned again with a renewed
// lifetime; an expired one is replaced by a new one. The same refresh_token
// is returned.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#2
func (e *Emulator) serveSNSRefreshToken(w http.ResponseWriter, r *http.Request) {
	if !e.requireMethod(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	appID, rt := q.Get("appid"), q.Get("refresh_token")
	switch {
	case appID == "":
		e.writeErr(w, 41002)
		return
	case rt == "":
		e.writeErr(w, 41003)
		return
	case q.Get("grant_type") != "refresh_token":
		e.writeErr(w, 40002)
		return
	}
	a := e.app(appID)
	if a == nil {
		e.writeErr(w, 40013)
		return
	}
	now := e.Now()
	st := oauthOf(a)
	st.mu.Lock()
	g := st.refresh[rt]
	switch {
	case g == nil:
		st.mu.Unlock()
		e.writeErr(w, 40030)
		return
	case !now.Before(g.refreshExpires):
		st.mu.Unlock()
		e.writeErr(w, 42002)
		return
	}
	acc := g.current
	if acc != nil && now.Before(acc.expires) {
		acc.expires = now.Add(SNSTokenLifetime)
	} else {
		acc = st.newAccess(g, now)
	}
	reply := snsTokenReply{
		AccessToken: acc.value, ExpiresIn: int(SNSTokenLifetime / time.Second),
		RefreshToken: g.refreshToken, OpenID: g.openID, Scope: g.scope,
	}
	st.mu.Unlock()
	writeJSON(w, reply)
}

// checkSNSAccess checks the access_token and openid query parameters of
// an /sns/ call: 41001 token missing, 41009 openid missing, 40001 unknown
// (or not an sns token), 42001 expired, 40003 openid not the token's user.
func (e *Emulator) checkSNSAccess(r *http.Request) (*app, snsAccessView, int) {
	q := r.URL.Query()
	tok, openID := q.Get("access_token"), q.Get("openid")
	switch {
	case tok == "":
		return nil, snsAccessView{}, 41001
	case openID == "":
		return nil, snsAccessView{}, 41009
	}
	a, acc := e.findSNSAccess(tok)
	switch {
	case a == nil:
		return nil, acc, 40001
	case !e.Now().Before(acc.expires):
		setCallApp(r, a.cfg.AppID)
		return nil, acc, 42001
	case subtle.ConstantTimeCompare([]byte(openID), []byte(acc.openID)) != 1:
		setCallApp(r, a.cfg.AppID)
		return nil, acc, 40003
	}
	setCallApp(r, a.cfg.AppID)
	return a, acc, 0
}

// serveSNSUserInfo serves GET /sns/userinfo?access_token&openid&lang.
// Errors as checkSNSAccess, then 48001 when the token was granted with
// snsapi_base. Answers the simulated user's profile; lang (zh_CN, zh_TW,
// en) is accepted and does not change the values.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#3
func (e *Emulator) serveSNSUserInfo(w http.ResponseWriter, r *http.Request) {
	if !e.requireMethod(w, r, http.MethodGet) {
		return
	}
	a, acc, code := e.checkSNSAccess(r)
	if code != 0 {
		e.writeErr(w, code)
		return
	}
	if acc.scope != oauthScopeUserInfo {
		e.writeErr(w, 48001)
		return
	}
	a.mu.Lock()
	u := a.user(acc.openID)
	var reply snsUserInfoReply
	if u != nil {
		reply = snsUserInfoReply{
			OpenID: u.OpenID, Nickname: u.Nickname, Sex: u.Sex, Province: u.Province, City: u.City,
			Country: u.Country, HeadImgURL: headImgURL(r, &u.UserConfig), Privilege: []string{}, UnionID: u.UnionID,
		}
	}
	a.mu.Unlock()
	if u == nil {
		e.writeErr(w, 40003)
		return
	}
	writeJSON(w, reply)
}

// serveSNSAuth serves GET /sns/auth?access_token&openid: {"errcode":0,
// "errmsg":"ok"} while the sns access_token is valid for openid, else the
// errors of checkSNSAccess (40001 invalid, 42001 expired, 40003 openid).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#4
func (e *Emulator) serveSNSAuth(w http.ResponseWriter, r *http.Request) {
	if !e.requireMethod(w, r, http.MethodGet) {
		return
	}
	if _, _, code := e.checkSNSAccess(r); code != 0 {
		e.writeErr(w, code)
		return
	}
	writeJSON(w, errBody{ErrCode: 0, ErrMsg: "ok"})
}
