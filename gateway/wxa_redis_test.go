package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/miniprogram"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/sqlite"
)

// TestWXASessionsInRedis: with redis: set, a Mini Program login's session
// (with its sealed session_key) lives in Redis, not in the SQLite file;
// the bearer token works for /api/me and /profile (which opens the sealed
// key); and no session_key reaches an answer or the log.
func TestWXASessionsInRedis(t *testing.T) {
	rurl := redisURL(t)
	e := newWXAEnv(t, "sqlite", func(cfg *Config) { cfg.Redis = rurl })
	ctx := t.Context()
	openID := e.users[0]

	lr := e.login(t, testMiniAppID, openID)
	sess, err := e.g.Stores().Sessions.Session(ctx, lr.Token, e.emu.Now())
	if err != nil || sess.AppID != testMiniAppID || sess.OpenID != openID || len(sess.SealedSessionKey) == 0 {
		t.Fatalf("session in the gateway's store = %+v, %v; want %s's with a sealed session_key", sess, err, openID)
	}
	if _, ok := e.g.Stores().Sessions.(*sqlite.DB); ok {
		t.Fatalf("with redis: set the sessions are still kept in SQLite")
	}
	// The SQLite file of the gateway does not know the token.
	db, err := sqlite.Open(strings.TrimPrefix(e.g.Config().Store, "sqlite://"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Session(ctx, lr.Token, e.emu.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the SQLite file's Session(token) = %v, want ErrNotFound (the session is in Redis)", err)
	}

	key := e.sessionKey(t, lr.Token)
	info := e.userInfo(t, testMiniAppID, openID)
	if miniprogram.RawDataSignature(info.RawData, key) != info.Signature {
		t.Fatalf("the session_key sealed in Redis is not the platform's")
	}
	if status, body := e.call(t, "POST", "/wxa/"+testMiniAppID+"/profile", lr.Token, profileBody(info)); status != http.StatusOK {
		t.Fatalf("POST /profile with the Redis session = %d %s, want 200", status, body)
	}
	status, body := e.call(t, "GET", "/api/me", lr.Token, nil)
	var me struct {
		OpenID   string `json:"openid"`
		Nickname string `json:"nickname"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &me) != nil || me.OpenID != openID || me.Nickname != testMiniNickname {
		t.Errorf("GET /api/me with the Redis session = %d %s, want %s (%s)", status, body, openID, testMiniNickname)
	}
	if status, body := e.call(t, "GET", "/api/me", strings.Repeat("B", 43), nil); status != http.StatusUnauthorized {
		t.Errorf("GET /api/me with an unknown token = %d %s, want 401", status, body)
	}
	e.checkNoSecret(t, key)
}
