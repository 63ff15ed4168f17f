package emulator

import (
	"sync"
	"time"

	"github.com/wxkit/wxkit/wxcrypto"
)

// app is the runtime state of one hosted Official Account.
//
// cfg and cipher never change after New. Everything else is guarded by mu.
// Route files that need their own per-app state (menus, media, OAuth codes,
// orders, ...) keep it in a struct of their own reached through appExt, and
// guard it with mu as well (or with a mutex of their own).
type app struct {
	cfg    AppConfig
	cipher *wxcrypto.Cipher // nil in plain mode without a key

	mu       sync.Mutex
	pushURL  string
	users    []*user
	byOpenID map[string]*user

	quotas map[string]*dayCounter // daily quotas by key (usually the API path)

	cgiLatest  *tokenRecord // last /cgi-bin/token token
	cgiPrev    *tokenRecord // the /cgi-bin/token token before cgiLatest
	stable     *tokenRecord // current stable_token token
	lastForce  time.Time    // last forced stable_token refresh
	forceDay   string       // quota day of forceCount
	forceCount int          // forced refreshes on forceDay
	tickets    map[string]*ticketRecord
	conv       map[string][]ConversationEntry // conversation log by openid
	msgSeq     uint64

	extMu sync.Mutex
	ext   map[string]any
}

// user is one follower of an app.
type user struct {
	UserConfig
	subscribed    bool
	subscribeTime time.Time
}

// dayCounter counts calls within one quota day.
type dayCounter struct {
	day string
	n   int
}

// takeQuota counts one call of key against a daily limit and reports whether
// it is allowed (false once limit calls were made on now's quota day). A
// limit <= 0 means unlimited. a.mu must be held.
func (a *app) takeQuota(key string, limit int, now time.Time) bool {
	day := quotaDay(now)
	c := a.quotas[key]
	if c == nil {
		c = &dayCounter{}
		a.quotas[key] = c
	}
	if c.day != day {
		c.day, c.n = day, 0
	}
	if limit > 0 && c.n >= limit {
		return false
	}
	c.n++
	return true
}

// quotaUsed returns how many calls of key were counted on now's quota day.
// a.mu must be held.
func (a *app) quotaUsed(key string, now time.Time) int {
	c := a.quotas[key]
	if c == nil || c.day != quotaDay(now) {
		return 0
	}
	return c.n
}

// user returns the follower with openID, or nil. a.mu must be held.
func (a *app) user(openID string) *user { return a.byOpenID[openID] }

// appExt returns the extension state of type T stored under key for a,
// creating a zero T on first use. Route files use it for their per-app state:
//
//	type menuState struct{ menu []byte }
//	st := appExt[menuState](a, "menu")
//	a.mu.Lock(); st.menu = b; a.mu.Unlock()
//
// Using the same key with two types is a programming error and panics.
func appExt[T any](a *app, key string) *T {
	a.extMu.Lock()
	defer a.extMu.Unlock()
	if v, ok := a.ext[key]; ok {
		return v.(*T)
	}
	v := new(T)
	a.ext[key] = v
	return v
}

// dailyLimit returns the configured daily quota for path (Limits.Daily), or
// def when none is configured.
func (e *Emulator) dailyLimit(path string, def int) int {
	if n, ok := e.cfg.Limits.Daily[path]; ok {
		return n
	}
	return def
}
