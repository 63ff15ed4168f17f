package mp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
)

// Values of the app the service tests run against in the emulator.
const (
	emuAppID   = "wx5e5e5e5e5e5e5e5e"
	emuSecret  = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	emuToken   = "emutoken123"
	emuOtherID = "wx6f6f6f6f6f6f6f6f"
)

// emuT0 is the emulator's time in the service tests.
var emuT0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// emuEnv is a Client wired to an in-process emulator.
type emuEnv struct {
	srv *emulatortest.Server
	c   *Client
	// users are the OpenIDs of the app: 张三 (male, 广州), 李四 (female),
	// Alice (en) follow the account; users[3] does not.
	users []string
	// stranger is a user of another app.
	stranger string
}

// newEmu starts an emulator with one plain-mode app whose push URL answers
// "success", on a fixed clock at emuT0.
func newEmu(t *testing.T) *emuEnv {
	t.Helper()
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(recv.Close)
	no := false
	cfg := emulator.Config{Apps: []emulator.AppConfig{
		{
			AppID: emuAppID, Secret: emuSecret, Token: emuToken, Mode: emulator.ModePlain, PushURL: recv.URL,
			Users: []emulator.UserConfig{
				{Nickname: "张三", Sex: 1, City: "广州", Province: "广东", Country: "中国", Language: "zh_CN", UnionID: "uZhangSan"},
				{Nickname: "李四", Sex: 2, City: "杭州", Province: "浙江", Country: "中国", Language: "zh_CN"},
				{Nickname: "Alice", Language: "en"},
				{Nickname: "Gone", Subscribed: &no},
			},
		},
		{AppID: emuOtherID, Secret: emuSecret, Token: emuToken, Users: []emulator.UserConfig{{Nickname: "other"}}},
	}}
	srv := emulatortest.New(t, cfg, emulator.WithClock(emulator.FixedClock(emuT0)))
	c, err := NewClient(emuAppID, emuSecret, WithBaseURL(srv.URL+"/"), WithHTTPClient(srv.HTTP.Client()))
	if err != nil {
		t.Fatalf("NewClient = %v", err)
	}
	env := &emuEnv{srv: srv, c: c}
	for _, a := range srv.Apps() {
		for _, u := range a.Users {
			if a.AppID == emuAppID {
				env.users = append(env.users, u.OpenID)
			} else {
				env.stranger = u.OpenID
			}
		}
	}
	return env
}

// push makes user send a text message (an interaction that opens the
// customer-service window).
func (env *emuEnv) push(t *testing.T, user, content string) {
	t.Helper()
	res, err := env.srv.Push(t.Context(), emuAppID, emulator.PushRequest{User: user, Content: content})
	if err != nil || !res.OK() {
		t.Fatalf("Push(%q) = %+v, %v", content, res, err)
	}
}

// wantCode fails unless err is a *wxkit.APIError (or an error matching
// one, such as *MenuError) with errcode code.
func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s = nil, want errcode %d", what, code)
	}
	if !errors.Is(err, &wxkit.APIError{ErrCode: code}) {
		t.Fatalf("%s = %v, want errcode %d", what, err, code)
	}
}

// emulatorFault makes every call of path answer errcode code.
func emulatorFault(path string, code int) emulator.Fault {
	return emulator.Fault{Path: path, ErrCode: code, Count: -1}
}

// emulatorEntry is a line of the emulator's conversation log.
type emulatorEntry = emulator.ConversationEntry
