package emulator

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSubscribeMessageSend(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	tmpls, err := e.SubscribeTemplates(mpAppID)
	if err != nil || len(tmpls) == 0 {
		t.Fatalf("SubscribeTemplates: %v", err)
	}
	tmpl := tmpls[0].TemplateID // 审核结果：{{phrase1.DATA}} 申请项目：{{thing2.DATA}} 审核时间：{{time3.DATA}}
	user := mpUser(t, e, mpAppID, 0)
	target := "/cgi-bin/message/subscribe/send?access_token=" + appToken(t, e, mpAppID, mpSecret)
	body := func(data string) string {
		return `{"touser":"` + user + `","template_id":"` + tmpl + `","page":"pages/index/index?id=1","miniprogram_state":"formal","lang":"zh_CN","data":` + data + `}`
	}
	good := body(`{"phrase1":{"value":"通过"},"thing2":{"value":"会员认证"},"time3":{"value":"2025-03-01 10:00"}}`)
	accept := func(reject bool) map[string]string {
		t.Helper()
		var out map[string]string
		req, _ := json.Marshal(map[string]any{"openid": user, "tmplIds": []string{tmpl}, "reject": reject})
		if st := serveJSON(t, e, "POST", "/_emulator/apps/"+mpAppID+"/wx.requestSubscribeMessage", string(req), &out); st != 200 {
			t.Fatalf("wx.requestSubscribeMessage: %d %v", st, out)
		}
		return out
	}

	wantErr(t, "send without acceptance", call(t, e, "POST", target, good), 43101)
	if diff := cmp.Diff(map[string]string{"errMsg": "requestSubscribeMessage:ok", tmpl: "accept"}, accept(false)); diff != "" {
		t.Errorf("wx.requestSubscribeMessage (-want +got):\n%s", diff)
	}
	if r := call(t, e, "POST", target, good); r.ErrCode != 0 {
		t.Fatalf("send after acceptance: %d %q", r.ErrCode, r.ErrMsg)
	}
	wantErr(t, "second send on one acceptance", call(t, e, "POST", target, good), 43101)

	// Acceptances add up, one message each; a refusal withdraws them.
	accept(false)
	accept(false)
	if r := call(t, e, "POST", target, good); r.ErrCode != 0 {
		t.Errorf("send 1 of 2: %d", r.ErrCode)
	}
	accept(true)
	wantErr(t, "send after refusal", call(t, e, "POST", target, good), 43101)

	accept(false)
	tests := []struct {
		name, body string
		want       int
	}{
		{"unknown user", `{"touser":"oNobody","template_id":"` + tmpl + `","data":{}}`, 40003},
		{"unknown template", `{"touser":"` + user + `","template_id":"nope","data":{}}`, 40037},
		{"thing too long", body(`{"phrase1":{"value":"通过"},"thing2":{"value":"一二三四五六七八九十一二三四五六七八九十一"},"time3":{"value":"t"}}`), 47003},
		{"value missing", body(`{"phrase1":{"value":"通过"},"time3":{"value":"t"}}`), 47003},
		{"miniprogram_state", `{"touser":"` + user + `","template_id":"` + tmpl + `","miniprogram_state":"beta","data":{}}`, 40097},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, call(t, e, "POST", target, tt.body), tt.want)
		})
	}
	r := call(t, e, "POST", "/cgi-bin/message/subscribe/send?access_token="+appToken(t, e, testAppID, testSecret), good)
	wantErr(t, "official account", r, 48001)
	// The refused calls left the acceptance: one more message goes.
	if r := call(t, e, "POST", target, good); r.ErrCode != 0 {
		t.Errorf("send after refused calls: %d", r.ErrCode)
	}

	log, _ := e.Conversation(mpAppID, user)
	var sent []string
	for _, en := range log {
		if en.Via == "subscribe" {
			sent = append(sent, en.Text)
		}
	}
	want := "审核结果通知\n审核结果：通过\n申请项目：会员认证\n审核时间：2025-03-01 10:00"
	if diff := cmp.Diff([]string{want, want, want}, sent); diff != "" {
		t.Errorf("subscription messages in the log (-want +got):\n%s", diff)
	}
}

func TestWXRequestSubscribeMessageErrors(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	tmpls, _ := e.SubscribeTemplates(mpAppID)
	tmpl := tmpls[0].TemplateID
	tests := []struct {
		name   string
		app    string
		ids    []string
		want   error
		status int
	}{
		{"unknown template", mpAppID, []string{"nope"}, ErrUnknownTemplate, 400},
		{"no template", mpAppID, nil, nil, 400},
		{"four templates", mpAppID, []string{tmpl, tmpl, tmpl, tmpl}, nil, 400},
		{"official account", testAppID, []string{tmpl}, ErrNotMiniProgram, 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.WXRequestSubscribeMessage(tt.app, "", tt.ids, true)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("WXRequestSubscribeMessage = %v, want %v", err, tt.want)
			}
			b, _ := json.Marshal(map[string]any{"tmplIds": tt.ids})
			if st, _ := serveRaw(t, e, "POST", "/_emulator/apps/"+tt.app+"/wx.requestSubscribeMessage", string(b)); st != tt.status {
				t.Errorf("control status = %d, want %d", st, tt.status)
			}
		})
	}
}
