package gateway

import (
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
	if !s.secretMatches(r.Header.Get("Authorization")) {
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "token service: unauthorized request",
			slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr))
		w.Header().Set("WWW-Authenticate", `Bearer realm="wxkit token service"`)
		writeJSON(w, http.StatusUnauthorized, tokenError{ErrCode: 41001, ErrMsg: "missing or wrong bearer secret"})
		return
	}
	appID := r.PathValue("appid")
	at := s.apps[appID]
	if at == nil {
		writeJSON(w, http.StatusNotFound, tokenError{ErrCode: 40013, ErrMsg: "invalid appid: not configured in this gateway"})
		return
	}
	kind := token.Kind(r.URL.Query().Get("type"))
	if kind == "" {
		kind = token.KindAccessToken
	}
	var src *token.CachedSource
	switch kind {
	case token.KindAccessToken:
		src = at.access
	case token.KindJSAPITicket:
		src = at.ticket
	default:
		writeJSON(w, http.StatusBadRequest, tokenError{ErrCode: 40097, ErrMsg: "invalid type: want access_token or jsapi_ticket"})
		return
	}
	if src == nil {
		writeJSON(w, http.StatusNotFound, tokenError{ErrCode: 40125, ErrMsg: "no secret configured for this app"})
		return
	}
	t, err := src.Token(r.Context())
	if err != nil {
		// Errors of the token package never carry the AppSecret or a token.
		s.logger.LogAttrs(r.Context(), slog.LevelError, "token service: fetching token failed",
			slog.String("appid", appID), slog.String("type", string(kind)), slog.String("error", err.Error()))
		te := tokenError{ErrCode: -1, ErrMsg: "fetching the token upstream failed"}
		if ae, ok := errors.AsType[*wxkit.APIError](err); ok {
			te = tokenError{ErrCode: ae.ErrCode, ErrMsg: ae.ErrMsg}
		}
		writeJSON(w, http.StatusBadGateway, te)
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
