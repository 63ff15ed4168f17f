package emulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// newPlainPushTest returns an emulator whose test app is in plain mode and
// pushes to a server answering "success".
func newPlainPushTest(t *testing.T) *Emulator {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("success"))
	}))
	t.Cleanup(srv.Close)
	return newTest(t, func(c *Config) {
		c.Apps[0].Mode, c.Apps[0].EncodingAESKey, c.Apps[0].PushURL = ModePlain, "", srv.URL
	})
}

func TestCustomServiceWindowEvents(t *testing.T) {
	t.Parallel()
	text := func(user string) string {
		return fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":"hi"}}`, user)
	}
	tests := []struct {
		name string
		push PushRequest
		code int
	}{
		{"text message", PushRequest{Content: "hi"}, 0},
		{"CLICK", PushRequest{Event: EventTypeClick, EventKey: "K"}, 0},
		{"scancode_waitmsg", PushRequest{Event: "scancode_waitmsg", EventKey: "K"}, 0},
		{"subscribe", PushRequest{Event: EventTypeSubscribe}, 0},
		{"SCAN", PushRequest{Event: EventTypeScan, EventKey: "1"}, 0},
		{"VIEW does not open the window", PushRequest{Event: EventTypeView, EventKey: "http://a.cn"}, 45015},
		{"LOCATION does not open the window", PushRequest{Event: EventTypeLocation}, 45015},
		{"unsubscribe closes it", PushRequest{Event: EventTypeUnsubscribe}, 45015},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newPlainPushTest(t)
			tok := fetchToken(t, e)
			user := e.Apps()[0].Users[0].OpenID
			tc.push.User = user
			if _, err := e.Push(t.Context(), testAppID, tc.push); err != nil {
				t.Fatalf("Push = %v", err)
			}
			if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/custom/send", text(user)); code != tc.code {
				t.Errorf("custom/send = %d (%v), want %d", code, m["errmsg"], tc.code)
			}
		})
	}
}

func TestCustomServiceValidation(t *testing.T) {
	t.Parallel()
	e := newPlainPushTest(t)
	tok := fetchToken(t, e)
	user := e.Apps()[0].Users[0].OpenID
	if _, err := e.Push(t.Context(), testAppID, PushRequest{User: user, Content: "hi"}); err != nil {
		t.Fatal(err)
	}
	long := make([]byte, csMaxText+1)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name, body string
		code       int
	}{
		{"text 2048 bytes", fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":%q}}`, user, long[:csMaxText]), 0},
		{"text 2049 bytes", fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":%q}}`, user, long), 45002},
		{"empty text", fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":""}}`, user), 44004},
		{"unknown msgtype", fmt.Sprintf(`{"touser":%q,"msgtype":"mpnews"}`, user), 40008},
		{"image without media", fmt.Sprintf(`{"touser":%q,"msgtype":"image","image":{"media_id":"x"}}`, user), 40007},
		{"news without articles", fmt.Sprintf(`{"touser":%q,"msgtype":"news","news":{"articles":[]}}`, user), 44003},
		{"miniprogram without pagepath", fmt.Sprintf(`{"touser":%q,"msgtype":"miniprogrampage","miniprogrampage":{"appid":"wx1"}}`, user), 40165},
		{"unknown user", `{"touser":"nobody","msgtype":"text","text":{"content":"x"}}`, 40003},
	}
	for _, tc := range tests {
		if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/custom/send", tc.body); code != tc.code {
			t.Errorf("%s: custom/send = %d (%v), want %d", tc.name, code, m["errmsg"], tc.code)
		}
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/custom/typing", fmt.Sprintf(`{"touser":%q,"command":"Dance"}`, user)); code != 40097 {
		t.Errorf("typing(Dance) = %d, want 40097", code)
	}
	advance(t, e, csWindow+time.Second)
	tok = fetchToken(t, e)
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/custom/typing", fmt.Sprintf(`{"touser":%q,"command":"Typing"}`, user)); code != 45015 {
		t.Errorf("typing after 48 h = %d, want 45015", code)
	}
	msgs, err := e.CustomerServiceMessages(testAppID, user)
	if err != nil || len(msgs) != 1 || len(msgs[0].Text) != csMaxText {
		t.Errorf("CustomerServiceMessages = %d entries, %v; want the one accepted text", len(msgs), err)
	}
}
