package emulator

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Lifetimes of web authorization (docs/PLATFORM.md, "OAuth code" and
// "OAuth tokens" rows).
const (
	// OAuthCodeLifetime is how long an authorization code stays usable.
	OAuthCodeLifetime = 5 * time.Minute
	// SNSTokenLifetime is the lifetime of an sns access_token (expires_in).
	SNSTokenLifetime = 7200 * time.Second
	// SNSRefreshTokenLifetime is the lifetime of a refresh_token; refreshing
	// does not extend it.
	SNSRefreshTokenLifetime = 30 * 24 * time.Hour
	// oauthConsentLifetime is how long a consent page stays answerable.
	oauthConsentLifetime = 10 * time.Minute
)

// Scopes of Official Account web authorization.
const (
	oauthScopeBase     = "snsapi_base"
	oauthScopeUserInfo = "snsapi_userinfo"
)

// oauthState is the web authorization state of one app, reached with
// oauthOf. It has its own mutex; a.mu is never taken while it is held.
type oauthState struct {
	mu sync.Mutex
	// autoApprove, when not empty, is the openid that consents at once
	// (SetOAuthAutoApprove).
	autoApprove string
	consents    map[string]*oauthConsent // open consent pages by id
	codes       map[string]*oauthCode
	access      map[string]*snsAccess  // sns access tokens by value, current and replaced
	refresh     map[string]*oauthGrant // grants by refresh_token
}

// oauthConsent is a consent (or user picker) page waiting for an answer.
type oauthConsent struct {
	redirectURI string
	scope       string
	state       string
	expires     time.Time
}

// oauthCode is an authorization code handed to the redirect_uri.
type oauthCode struct {
	openID  string
	scope   string
	expires time.Time
	used    bool
}

// oauthGrant is what one exchanged code produced: the refresh_token and the
// current sns access_token of one user.
type oauthGrant struct {
	openID         string
	scope          string
	refreshToken   string
	refreshExpires time.Time
	current        *snsAccess
}

// snsAccess is one sns access_token. expires is moved forward when the
// grant is refreshed while the token is still valid.
type snsAccess struct {
	value   string
	grant   *oauthGrant
	expires time.Time
}

// oauthOf returns the OAuth state of a, creating it on first use.
func oauthOf(a *app) *oauthState {
	st := appExt[oauthState](a, "oauth")
	st.mu.Lock()
	if st.codes == nil {
		st.consents = make(map[string]*oauthConsent)
		st.codes = make(map[string]*oauthCode)
		st.access = make(map[string]*snsAccess)
		st.refresh = make(map[string]*oauthGrant)
		st.autoApprove = a.cfg.OAuth.AutoApprove
	}
	st.mu.Unlock()
	return st
}

// SetOAuthAutoApprove makes the authorize page of appID consent at once, as
// the user openID, for both scopes, without showing a page: the browser is
// redirected straight to redirect_uri?code=CODE&state=STATE. It is meant for
// automated tests, which have no one to press 允许. An empty openID turns it
// off. openID must be a user of the app.
func (e *Emulator) SetOAuthAutoApprove(appID, openID string) error {
	a := e.app(appID)
	if a == nil {
		return fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	if openID != "" {
		a.mu.Lock()
		u := a.user(openID)
		a.mu.Unlock()
		if u == nil {
			return fmt.Errorf("emulator: SetOAuthAutoApprove: %q is not a user of %s", openID, appID)
		}
	}
	st := oauthOf(a)
	st.mu.Lock()
	st.autoApprove = openID
	st.mu.Unlock()
	return nil
}

// IssueOAuthCode returns a fresh authorization code of appID for the user
// openID and scope ("snsapi_base" or "snsapi_userinfo"), as if the user had
// gone through the authorize page and consented. The code is single use and
// valid for OAuthCodeLifetime. For tests that start at the callback.
func (e *Emulator) IssueOAuthCode(appID, openID, scope string) (string, error) {
	a := e.app(appID)
	if a == nil {
		return "", fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	if scope != oauthScopeBase && scope != oauthScopeUserInfo {
		return "", fmt.Errorf("emulator: IssueOAuthCode: invalid scope %q", scope)
	}
	a.mu.Lock()
	u := a.user(openID)
	a.mu.Unlock()
	if u == nil {
		return "", fmt.Errorf("emulator: IssueOAuthCode: %q is not a user of %s", openID, appID)
	}
	return oauthOf(a).issueCode(openID, scope, e.Now()), nil
}

// issueCode creates a code for openID and scope at now.
func (st *oauthState) issueCode(openID, scope string, now time.Time) string {
	// Real codes are 32 characters of [0-9A-Za-z], starting with "0".
	code := "0" + randomString(31, oauthCodeAlphabet)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.codes) > 1024 {
		for k, c := range st.codes {
			if now.After(c.expires.Add(time.Hour)) {
				delete(st.codes, k)
			}
		}
	}
	st.codes[code] = &oauthCode{openID: openID, scope: scope, expires: now.Add(OAuthCodeLifetime)}
	return code
}

// oauthCodeAlphabet is [0-9A-Za-z].
const oauthCodeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// oauthDomains returns the OAuth domains (网页授权域名, host[:port]) of a:
// the configured oauth.domains, or, when none are configured, the host of
// the app's current push URL, so that a server that receives the pushes can
// also receive the OAuth callbacks without more configuration.
func oauthDomains(a *app) []string {
	if len(a.cfg.OAuth.Domains) > 0 {
		return a.cfg.OAuth.Domains
	}
	a.mu.Lock()
	push := a.pushURL
	a.mu.Unlock()
	if u, err := url.Parse(push); err == nil && u.Host != "" {
		return []string{u.Host}
	}
	return nil
}

// oauthRedirectAllowed reports whether the absolute http(s) URL u may be a
// redirect_uri for the domains. As on the platform, a domain covers itself
// only, not its subdomains. A domain given with a port ("127.0.0.1:8080")
// matches that port only; a domain without one matches the scheme's default
// port only (80, 443). A scheme or path in a domain entry is ignored.
func oauthRedirectAllowed(domains []string, u *url.URL) bool {
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	def := "80"
	if u.Scheme == "https" {
		def = "443"
	}
	if port == "" {
		port = def
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		d = strings.TrimPrefix(strings.TrimPrefix(d, "http://"), "https://")
		if i := strings.IndexByte(d, '/'); i >= 0 {
			d = d[:i]
		}
		if h, p, err := net.SplitHostPort(d); err == nil {
			if host == strings.Trim(h, "[]") && port == p {
				return true
			}
			continue
		}
		if host == strings.Trim(d, "[]") && port == def {
			return true
		}
	}
	return false
}

// oauthRedirectURL adds the key/value pairs to the query of redirectURI,
// before any "#fragment" (single-page apps keep their route after it), as
// the platform does: "?code=CODE&state=STATE", or "&..." when the URI
// already has a query.
func oauthRedirectURL(redirectURI string, kv ...string) string {
	frag := ""
	if i := strings.IndexByte(redirectURI, '#'); i >= 0 {
		redirectURI, frag = redirectURI[:i], redirectURI[i:]
	}
	var b strings.Builder
	b.WriteString(redirectURI)
	sep := "?"
	if strings.Contains(redirectURI, "?") {
		sep = "&"
		if strings.HasSuffix(redirectURI, "?") || strings.HasSuffix(redirectURI, "&") {
			sep = ""
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString(sep)
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
		sep = "&"
	}
	b.WriteString(frag)
	return b.String()
}

// snsAccessView is a snapshot of an sns access_token and its grant.
type snsAccessView struct {
	openID  string
	scope   string
	expires time.Time
}

// findSNSAccess looks up an sns access_token across the apps and returns a
// snapshot of it with its app, or a nil app when the token is unknown.
func (e *Emulator) findSNSAccess(value string) (*app, snsAccessView) {
	if value == "" {
		return nil, snsAccessView{}
	}
	for _, id := range e.appOrder {
		a := e.apps[id]
		st := oauthOf(a)
		st.mu.Lock()
		acc := st.access[value]
		var v snsAccessView
		if acc != nil {
			v = snsAccessView{openID: acc.grant.openID, scope: acc.grant.scope, expires: acc.expires}
		}
		st.mu.Unlock()
		if acc != nil {
			return a, v
		}
	}
	return nil, snsAccessView{}
}
