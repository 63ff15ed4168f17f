package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"time"

	"github.com/wxkit/wxkit"
)

// tokenKind tells which API issued an access_token.
type tokenKind string

const (
	tokenKindCGI    tokenKind = "cgi-bin/token"
	tokenKindStable tokenKind = "stable_token"
)

// tokenRecord is one access_token the emulator issued. Fields other than
// revokedAt never change; revokedAt is guarded by Emulator.tokMu.
type tokenRecord struct {
	value   string
	appID   string
	kind    tokenKind
	issued  time.Time
	expires time.Time
	// revokedAt, when not zero, is the time from which the token is
	// invalid (40001) because a newer one superseded it.
	revokedAt time.Time
}

func init() {
	handle("/cgi-bin/token", (*Emulator).serveToken)
	handle("/cgi-bin/stable_token", (*Emulator).serveStableToken)
}

// tokenAlphabet is the character set of real access tokens after the
// "NN_" version prefix.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// randomInt returns a uniform integer in [lo, hi].
func randomInt(lo, hi int) int {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(hi-lo+1)))
	if err != nil {
		return lo
	}
	return lo + int(n.Int64())
}

// newTokenValue returns a token shaped like the real ones: "86_" followed by
// base64url-like characters, 136 to 157 characters in all.
func newTokenValue() string {
	n := randomInt(136, 157)
	return "86_" + randomString(n-3, tokenAlphabet)
}

// wellFormedToken reports whether s has the shape of an access_token
// (digits, "_", then 100-200 token characters). Other strings get 40014.
func wellFormedToken(s string) bool {
	i := 0
	for i < len(s) && i < 4 && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != '_' {
		return false
	}
	rest := s[i+1:]
	if len(rest) < 100 || len(rest) > 200 {
		return false
	}
	for j := 0; j < len(rest); j++ {
		c := rest[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// issueToken creates and registers a new token for a. a.mu must be held.
func (e *Emulator) issueToken(a *app, kind tokenKind, now time.Time) *tokenRecord {
	rec := &tokenRecord{
		value:   newTokenValue(),
		appID:   a.cfg.AppID,
		kind:    kind,
		issued:  now,
		expires: now.Add(e.cfg.Limits.TokenLifetime),
	}
	e.tokMu.Lock()
	// Forget tokens that expired more than a day ago, so that memory stays
	// bounded; they would answer 40001 instead of 42001 from then on.
	if len(e.tokens) > 4096 {
		for v, t := range e.tokens {
			if now.Sub(t.expires) > 24*time.Hour {
				delete(e.tokens, v)
			}
		}
	}
	e.tokens[rec.value] = rec
	e.tokMu.Unlock()
	kindStats := statTokenCGI
	if kind == tokenKindStable {
		kindStats = statTokenStable
	}
	e.stats.recordTokenFetch(a.cfg.AppID, kindStats)
	return rec
}

// revokeToken makes rec invalid from at on (if not revoked earlier).
func (e *Emulator) revokeToken(rec *tokenRecord, at time.Time) {
	if rec == nil {
		return
	}
	e.tokMu.Lock()
	if rec.revokedAt.IsZero() || at.Before(rec.revokedAt) {
		rec.revokedAt = at
	}
	e.tokMu.Unlock()
}

// tokenReply is the success answer of the token APIs.
type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// lookupCredentialApp runs the checks shared by /cgi-bin/token and
// stable_token, in the platform's order: grant_type (40002), appid (41002),
// secret (41004), unknown appid (40013), IP whitelist (40164), secret
// (40125). It returns the app or the error to answer.
func (e *Emulator) lookupCredentialApp(r *http.Request, grantType, appID, secret string) (*app, *wxkit.APIError) {
	switch {
	case grantType != "client_credential":
		return nil, apiErr(40002)
	case appID == "":
		return nil, apiErr(41002)
	case secret == "":
		return nil, apiErr(41004)
	}
	a := e.app(appID)
	if a == nil {
		return nil, apiErr(40013)
	}
	if len(a.cfg.IPWhitelist) > 0 {
		ip := remoteIP(r)
		if ip == nil || !ipAllowed(a.cfg.IPWhitelist, ip) {
			v4 := ""
			v6 := ""
			if ip != nil {
				if ip4 := ip.To4(); ip4 != nil {
					v4, v6 = ip4.String(), "::ffff:"+ip4.String()
				} else {
					v4, v6 = ip.String(), ip.String()
				}
			}
			return nil, &wxkit.APIError{ErrCode: 40164, ErrMsg: fmt.Sprintf("invalid ip %s ipv6 %s, not in whitelist", v4, v6)}
		}
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(a.cfg.Secret)) != 1 {
		return nil, apiErr(40125)
	}
	return a, nil
}

// remoteIP returns the caller's IP from r.RemoteAddr.
func remoteIP(r *http.Request) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return net.ParseIP(host)
}

// quotaMsgToken is the 45009 text of /cgi-bin/token.
const quotaMsgToken = "reach max api daily quota limit, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r"

// serveToken serves GET /cgi-bin/token?grant_type=client_credential&appid&secret.
// Every successful call issues a new token; the previous one stays valid for
// Limits.TokenOverlap (5 min), older ones become invalid at once (40001).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a, aerr := e.lookupCredentialApp(r, q.Get("grant_type"), q.Get("appid"), q.Get("secret"))
	if aerr != nil {
		e.writeAPIError(w, aerr)
		return
	}
	now := e.Now()
	a.mu.Lock()
	if !a.takeQuota("/cgi-bin/token", e.cfg.Limits.TokenDaily, now) {
		a.mu.Unlock()
		e.writeErrMsg(w, 45009, quotaMsgToken)
		return
	}
	prev, older := a.cgiLatest, a.cgiPrev
	rec := e.issueToken(a, tokenKindCGI, now)
	a.cgiLatest, a.cgiPrev = rec, prev
	a.mu.Unlock()
	// Only the new token and the one before it may overlap: the previous
	// token keeps TokenOverlap (5 min), the one before it ends now.
	e.revokeToken(prev, now.Add(e.cfg.Limits.TokenOverlap))
	e.revokeToken(older, now)
	writeJSON(w, tokenReply{AccessToken: rec.value, ExpiresIn: int(e.cfg.Limits.TokenLifetime / time.Second)})
}

// stableTokenRequest is the body of POST /cgi-bin/stable_token.
type stableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// serveStableToken serves POST /cgi-bin/stable_token. With force_refresh
// false it returns the current stable token while it has more than
// Limits.StableTokenRotateEarly (5 min) left, else a new one (the old one
// stays valid until it expires). With force_refresh true it issues a new
// token and invalidates the previous one at once, at most
// Limits.StableForceDaily (20) times a day (then 45009); a forced call within
// Limits.StableForceInterval (30 s) of the last forced refresh returns the
// current token unchanged. Stable tokens and /cgi-bin/token tokens never
// invalidate each other.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html
func (e *Emulator) serveStableToken(w http.ResponseWriter, r *http.Request) {
	if !e.requireMethod(w, r, http.MethodPost) {
		return
	}
	body, err := readBody(r)
	if err != nil {
		e.writeErr(w, 47001)
		return
	}
	if len(body) == 0 {
		e.writeErr(w, 44002)
		return
	}
	var req stableTokenRequest
	if err := json.Unmarshal(body, &req); err != nil {
		e.writeErr(w, 47001)
		return
	}
	a, aerr := e.lookupCredentialApp(r, req.GrantType, req.AppID, req.Secret)
	if aerr != nil {
		e.writeAPIError(w, aerr)
		return
	}
	now := e.Now()
	lim := e.cfg.Limits
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.takeQuota("/cgi-bin/stable_token", lim.StableTokenDaily, now) {
		e.writeErr(w, 45009)
		return
	}
	cur := a.stable
	curValid := cur != nil && now.Before(cur.expires) // a.stable is never revoked while current
	if req.ForceRefresh {
		if curValid && !a.lastForce.IsZero() && now.Sub(a.lastForce) < lim.StableForceInterval {
			writeJSON(w, tokenReply{AccessToken: cur.value, ExpiresIn: remainingSeconds(cur.expires, now)})
			return
		}
		day := quotaDay(now)
		if a.forceDay != day {
			a.forceDay, a.forceCount = day, 0
		}
		if a.forceCount >= lim.StableForceDaily {
			e.writeErr(w, 45009)
			return
		}
		a.forceCount++
		a.lastForce = now
		e.revokeToken(cur, now)
		a.stable = e.issueToken(a, tokenKindStable, now)
	} else if !curValid || !now.Before(cur.expires.Add(-lim.StableTokenRotateEarly)) {
		a.stable = e.issueToken(a, tokenKindStable, now)
	}
	writeJSON(w, tokenReply{AccessToken: a.stable.value, ExpiresIn: remainingSeconds(a.stable.expires, now)})
}

// remainingSeconds returns the whole seconds from now until exp.
func remainingSeconds(exp, now time.Time) int {
	d := exp.Sub(now)
	if d < 0 {
		return 0
	}
	return int(d / time.Second)
}

// checkToken evaluates an access_token at now: nil when usable, else the
// platform error (41001 missing, 40014 malformed, 40001 unknown or
// superseded, 42001 expired) and, for a known token, its record.
func (e *Emulator) checkToken(tok string, now time.Time) (*tokenRecord, *wxkit.APIError) {
	if tok == "" {
		return nil, apiErr(41001)
	}
	if !wellFormedToken(tok) {
		return nil, apiErr(40014)
	}
	e.tokMu.Lock()
	rec := e.tokens[tok]
	var revokedAt time.Time
	if rec != nil {
		revokedAt = rec.revokedAt
	}
	e.tokMu.Unlock()
	switch {
	case rec == nil:
		return nil, apiErr(40001)
	case !now.Before(rec.expires):
		return rec, apiErr(42001)
	case !revokedAt.IsZero() && !now.Before(revokedAt):
		return rec, apiErr(40001)
	}
	return rec, nil
}

// requireToken checks the access_token query parameter of r and returns the
// app it belongs to. The error is an *wxkit.APIError (41001, 40014, 40001
// or 42001) to answer with writeAPIError. Every API that takes an
// access_token calls it first:
//
//	a, err := e.requireToken(r)
//	if err != nil {
//		e.writeAPIError(w, err)
//		return
//	}
func (e *Emulator) requireToken(r *http.Request) (*app, error) {
	rec, aerr := e.checkToken(r.URL.Query().Get("access_token"), e.Now())
	if aerr != nil {
		return nil, aerr
	}
	a := e.app(rec.appID)
	if a == nil {
		return nil, apiErr(40001)
	}
	setCallApp(r, a.cfg.AppID)
	return a, nil
}
