package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/token"
)

// appTokens holds the token sources of one app.
type appTokens struct {
	access *token.CachedSource
	ticket *token.CachedSource
}

// tokenService serves GET /token/{appid}?type=access_token|jsapi_ticket for
// services that must not hold the AppSecret (token.Remote is its client).
type tokenService struct {
	secretSum [sha256.Size]byte
	apps      map[string]*appTokens
	logger    *slog.Logger
	now       func() time.Time

	invalidations *invalidateGate // limits.token_invalidate_interval (ratelimit.go)
	// failures brakes and logs failed authentications
	// (limits.auth_failures_per_minute, authfailures.go); nil: neither.
	failures *authFailures
	// components resolves ?component= (component_tokens.go); nil without
	// components.
	components *components
}

// secretMatches reports whether the Authorization header carries the
// bearer secret. It compares SHA-256 digests with
// crypto/subtle.ConstantTimeCompare, so that neither the content nor the
// length of the secret leaks through timing.
func (s *tokenService) secretMatches(header string) bool {
	const prefix = "Bearer "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		// Still do the comparison so that a missing scheme costs the same.
		header = prefix
	}
	got := sha256.Sum256([]byte(header[len(prefix):]))
	return subtle.ConstantTimeCompare(got[:], s.secretSum[:]) == 1
}

// tokenError is the JSON body of a failed token request, errcode/errmsg as
// WeChat spells them, so that token.Remote reports it as an APIError.
type tokenError struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *tokenService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, tokenError{ErrCode: 43001, ErrMsg: "require GET method"})
		return
	}
	src, appID, kind, ok := s.source(w, r)
	if !ok {
		return
	}
	// The token providers retry -1 and 45011 bursts themselves (200, 400,
	// 800 ms within the deadline): a longer burst comes back as its errcode.
	t, err := src.Token(r.Context())
	if err != nil {
		// Errors of the token package never carry the AppSecret or a token.
		s.logger.LogAttrs(r.Context(), slog.LevelError, "token service: fetching token failed",
			slog.String("appid", appID), slog.String("type", string(kind)), slog.String("error", err.Error()))
		status, te := http.StatusBadGateway, tokenError{ErrCode: -1, ErrMsg: "fetching the token upstream failed"}
		if ae, ok := errors.AsType[*wxkit.APIError](err); ok {
			te = tokenError{ErrCode: ae.ErrCode, ErrMsg: ae.ErrMsg}
		} else if _, ok := errors.AsType[*storeError](err); ok {
			status, te = http.StatusServiceUnavailable, tokenError{ErrCode: -1, ErrMsg: "token store unavailable (see the gateway log)"}
		} else if errors.Is(err, context.DeadlineExceeded) {
			status, te = http.StatusGatewayTimeout, tokenError{ErrCode: -1, ErrMsg: "timed out getting the token"}
		}
		writeJSON(w, status, te)
		return
	}
	expiresIn := int64(0)
	if !t.Expiry.IsZero() {
		expiresIn = max(int64(t.Expiry.Sub(s.now())/time.Second), 0)
	}
	if kind == token.KindJSAPITicket {
		writeJSON(w, http.StatusOK, struct {
			Ticket    string `json:"ticket"`
			ExpiresIn int64  `json:"expires_in"`
		}{t.Value, expiresIn})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}{t.Value, expiresIn})
}

// maxInvalidateBody caps the body of POST /token/{appid}/invalidate.
const maxInvalidateBody = 16 << 10

// serveInvalidate serves POST /token/{appid}/invalidate?type=access_token|jsapi_ticket
// with {"access_token": "<rejected>"} (or {"ticket": "<rejected>"}): a
// service that got 40001, 40014 or 42001 with a token from this service
// reports it, and the token is dropped from this process and the shared store
// if it is still the one held (token.CachedSource.Invalidate), so that the
// next GET fetches a new one; a burst of reports of the same token causes one
// refresh. Answered {"errcode":0,"errmsg":"ok"} whether or not the token was
// still held. token.Remote is its client.
func (s *tokenService) serveInvalidate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, tokenError{ErrCode: 43002, ErrMsg: "require POST method"})
		return
	}
	src, appID, kind, ok := s.source(w, r)
	if !ok {
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
		Ticket      string `json:"ticket"`
	}
	b, err := wxkit.ReadLimited(r.Body, maxInvalidateBody)
	if err == nil {
		err = json.Unmarshal(b, &body)
	}
	bad := body.AccessToken
	if kind == token.KindJSAPITicket {
		bad = body.Ticket
	}
	if err != nil || bad == "" {
		writeJSON(w, http.StatusBadRequest, tokenError{ErrCode: 47001, ErrMsg: `body must be {"access_token": "..."} or, for type=jsapi_ticket, {"ticket": "..."}`})
		return
	}
	if ok, wait := s.invalidations.allow(appID, kind); !ok { // ratelimit.go
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "token service: invalidation within limits.token_invalidate_interval of the last; keeping the current token",
			slog.String("appid", appID), slog.String("type", string(kind)), slog.Duration("retry_after", wait))
		writeJSON(w, http.StatusOK, tokenError{ErrCode: 0, ErrMsg: "ok"})
		return
	}
	if err := src.Invalidate(r.Context(), &token.Token{Value: bad}); err != nil {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "token service: invalidating token failed",
			slog.String("appid", appID), slog.String("type", string(kind)), slog.String("error", err.Error()))
		writeJSON(w, http.StatusServiceUnavailable, tokenError{ErrCode: -1, ErrMsg: "token store unavailable (see the gateway log)"})
		return
	}
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "token service: token reported rejected",
		slog.String("appid", appID), slog.String("type", string(kind)), slog.String("token", wxkit.Redact(bad)))
	writeJSON(w, http.StatusOK, tokenError{ErrCode: 0, ErrMsg: "ok"})
}

// source authenticates r and resolves its {appid} and type to the token
// source; when it returns false it has answered r: 429 when r's client has
// failed to authenticate too often (authfailures.go), 401 without the
// bearer secret.
func (s *tokenService) source(w http.ResponseWriter, r *http.Request) (src tokenSource, appID string, kind token.Kind, ok bool) {
	client, refused := s.failures.refuse(w, r)
	if refused {
		return nil, "", "", false
	}
	if !s.secretMatches(r.Header.Get("Authorization")) {
		s.failures.failed(r, client) // logged there, as a summary
		w.Header().Set("WWW-Authenticate", `Bearer realm="wxkit token service"`)
		writeJSON(w, http.StatusUnauthorized, tokenError{ErrCode: 41001, ErrMsg: "missing or wrong bearer secret"})
		return nil, "", "", false
	}
	appID = r.PathValue("appid")
	if comp := r.URL.Query().Get("component"); comp != "" {
		return s.authorizerSource(w, r, comp, appID) // component_tokens.go
	}
	at := s.apps[appID]
	if at == nil {
		writeJSON(w, http.StatusNotFound, tokenError{ErrCode: 40013, ErrMsg: "invalid appid: not configured in this gateway"})
		return nil, "", "", false
	}
	kind = token.Kind(r.URL.Query().Get("type"))
	if kind == "" {
		kind = token.KindAccessToken
	}
	var cs *token.CachedSource
	switch kind {
	case token.KindAccessToken:
		cs = at.access
	case token.KindJSAPITicket:
		cs = at.ticket
	default:
		writeJSON(w, http.StatusBadRequest, tokenError{ErrCode: 40097, ErrMsg: "invalid type: want access_token or jsapi_ticket"})
		return nil, "", "", false
	}
	if cs == nil {
		writeJSON(w, http.StatusNotFound, tokenError{ErrCode: 40125, ErrMsg: "no secret configured for this app"})
		return nil, "", "", false
	}
	return cs, appID, kind, true
}

// tokenSource is what the token service serves: a cached source that can
// drop a rejected token.
type tokenSource interface {
	token.Source
	token.Invalidator
}

// storeError marks an error of the token store (Redis or SQLite down), so
// that the token service answers 503 "token store unavailable" instead of
// blaming WeChat.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// markStoreErr wraps err in a storeError unless it is nil, one of the
// Store's sentinels (ErrNotFound, ErrLocked) or a context error.
func markStoreErr(err error) error {
	if err == nil || errors.Is(err, token.ErrNotFound) || errors.Is(err, token.ErrLocked) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &storeError{err: err}
}

// markedStore is a token.Store (and token.ValueDeleter) whose failures are
// storeErrors.
type markedStore struct{ s token.Store }

var (
	_ token.Store        = markedStore{}
	_ token.ValueDeleter = markedStore{}
)

func (m markedStore) Get(ctx context.Context, key string) (*token.Token, error) {
	t, err := m.s.Get(ctx, key)
	return t, markStoreErr(err)
}

func (m markedStore) Set(ctx context.Context, key string, t *token.Token) error {
	return markStoreErr(m.s.Set(ctx, key, t))
}

func (m markedStore) Delete(ctx context.Context, key string) error {
	return markStoreErr(m.s.Delete(ctx, key))
}

func (m markedStore) DeleteValue(ctx context.Context, key, value string) (bool, error) {
	if vd, ok := m.s.(token.ValueDeleter); ok {
		ok, err := vd.DeleteValue(ctx, key, value)
		return ok, markStoreErr(err)
	}
	t, err := m.s.Get(ctx, key)
	switch {
	case errors.Is(err, token.ErrNotFound):
		return false, nil
	case err != nil:
		return false, markStoreErr(err)
	case t.Value != value:
		return false, nil
	}
	return true, markStoreErr(m.s.Delete(ctx, key))
}

func (m markedStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	unlock, err := m.s.Lock(ctx, key, ttl)
	if err != nil {
		return nil, markStoreErr(err)
	}
	return func(ctx context.Context) error { return markStoreErr(unlock(ctx)) }, nil
}
