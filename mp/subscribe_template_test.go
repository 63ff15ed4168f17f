package mp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/internal/wxhttp"
	"github.com/wxkit/wxkit/message"
)

// TestSubscribeTemplates: categories → titles → keywords → a template made
// of chosen keywords, listed, sent and deleted; each bad input with its
// errcode.
func TestSubscribeTemplates(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	sub := env.c.Subscribe()

	cats, err := sub.GetCategories(ctx)
	if err != nil || len(cats) == 0 {
		t.Fatalf("Subscribe.GetCategories = %v, %v", cats, err)
	}
	var ids []int
	for _, c := range cats {
		ids = append(ids, c.ID)
	}
	all, err := sub.ListPubTemplateTitles(ctx, ids, 0, 30)
	if err != nil || all.Count == 0 || len(all.Titles) != all.Count {
		t.Fatalf("Subscribe.ListPubTemplateTitles(all) = %+v, %v", all, err)
	}
	page, err := sub.ListPubTemplateTitles(ctx, ids, 1, 1)
	if err != nil || page.Count != all.Count || len(page.Titles) != 1 || page.Titles[0] != all.Titles[1] {
		t.Errorf("Subscribe.ListPubTemplateTitles(start 1, limit 1) = %+v, %v; want %+v", page, err, all.Titles[1])
	}
	one, err := sub.ListPubTemplateTitles(ctx, ids[:1], 0, 30)
	if err != nil || one.Count == 0 || one.Count >= all.Count {
		t.Errorf("Subscribe.ListPubTemplateTitles(one category) = %+v, %v", one, err)
	}
	for _, tt := range []struct {
		ids          []int
		start, limit int
		code         int
	}{
		{nil, 0, 10, 200018}, {[]int{1}, 0, 10, 200019}, {ids, -1, 10, 200016}, {ids, 0, 0, 200017}, {ids, 0, 31, 200017},
	} {
		_, err := sub.ListPubTemplateTitles(ctx, tt.ids, tt.start, tt.limit)
		wantCode(t, fmt.Sprintf("Subscribe.ListPubTemplateTitles(%v, %d, %d)", tt.ids, tt.start, tt.limit), err, tt.code)
	}

	title := all.Titles[0]
	kws, err := sub.ListPubTemplateKeywords(ctx, fmt.Sprint(title.TID))
	if err != nil || len(kws) < 3 {
		t.Fatalf("Subscribe.ListPubTemplateKeywords(%d) = %v, %v", title.TID, kws, err)
	}
	_, err = sub.ListPubTemplateKeywords(ctx, "999999")
	wantCode(t, "Subscribe.ListPubTemplateKeywords(unknown)", err, 200014)

	add := &SubscribeTemplateAddRequest{TID: fmt.Sprint(title.TID), KIDList: []int{kws[2].KID, kws[0].KID}, SceneDesc: "测试"}
	id, err := sub.AddTemplate(ctx, add)
	if err != nil || id == "" {
		t.Fatalf("Subscribe.AddTemplate = %q, %v", id, err)
	}
	list, err := sub.ListTemplates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := SubscribeTemplate{
		PriTmplID: id, Title: title.Title, Type: title.Type,
		Content: fmt.Sprintf("%s：{{%s%d.DATA}}\n%s：{{%s%d.DATA}}", kws[2].Name, kws[2].Rule, kws[2].KID, kws[0].Name, kws[0].Rule, kws[0].KID),
		Example: kws[2].Name + "：" + kws[2].Example + "\n" + kws[0].Name + "：" + kws[0].Example,
	}
	if len(list) != 2 || !cmp.Equal(list[1], want) {
		t.Fatalf("Subscribe.ListTemplates = %+v, want the seeded template and %+v", list, want)
	}
	for _, tt := range []struct {
		name string
		req  SubscribeTemplateAddRequest
		code int
	}{
		{"unknown tid", SubscribeTemplateAddRequest{TID: "999999", KIDList: []int{1, 2}}, 200014},
		{"one keyword", SubscribeTemplateAddRequest{TID: add.TID, KIDList: []int{kws[0].KID}}, 200020},
		{"repeated keyword", SubscribeTemplateAddRequest{TID: add.TID, KIDList: []int{kws[0].KID, kws[0].KID}}, 200020},
		{"unknown keyword", SubscribeTemplateAddRequest{TID: add.TID, KIDList: []int{kws[0].KID, 99}}, 200020},
		{"long sceneDesc", SubscribeTemplateAddRequest{TID: add.TID, KIDList: add.KIDList, SceneDesc: zh(16)}, 200021},
	} {
		_, err := sub.AddTemplate(ctx, &tt.req)
		wantCode(t, "Subscribe.AddTemplate("+tt.name+")", err, tt.code)
	}

	// The new template is sent once the user accepts it.
	if _, err := env.srv.SubscribePopup(ctx, emuAppID, emulator.SubscribePopupRequest{OpenID: env.users[0], TemplateID: id, Accept: true}); err != nil {
		t.Fatal(err)
	}
	data := map[string]SubscribeValue{}
	for _, k := range []PubTemplateKeyword{kws[0], kws[2]} {
		data[fmt.Sprintf("%s%d", k.Rule, k.KID)] = SubscribeValue{Value: k.Example}
	}
	if err := sub.Send(ctx, &SubscribeSendRequest{ToUser: env.users[0], TemplateID: id, Data: data}); err != nil {
		t.Errorf("Subscribe.Send(added template) = %v", err)
	}

	if err := sub.DeleteTemplate(ctx, id); err != nil {
		t.Fatalf("Subscribe.DeleteTemplate = %v", err)
	}
	wantCode(t, "Subscribe.DeleteTemplate(again)", sub.DeleteTemplate(ctx, id), 40037)
	if list, _ := sub.ListTemplates(ctx); len(list) != 1 {
		t.Errorf("Subscribe.ListTemplates after delete = %+v, want 1", list)
	}
	err = sub.Send(ctx, &SubscribeSendRequest{ToUser: env.users[0], TemplateID: id, Data: data})
	wantCode(t, "Subscribe.Send(deleted template)", err, 40037)

	// At most 25 templates.
	for n := 1; n < 25; n++ {
		if _, err := sub.AddTemplate(ctx, add); err != nil {
			t.Fatalf("Subscribe.AddTemplate(#%d) = %v", n+1, err)
		}
	}
	_, err = sub.AddTemplate(ctx, add)
	wantCode(t, "Subscribe.AddTemplate(26th)", err, 200012)
}

// popup answers the subscription dialog through the control API.
func (env *emuEnv) popup(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	resp, err := env.srv.HTTP.Client().Post(env.srv.URL+"/_emulator/apps/"+emuAppID+"/subscribe-popup", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// TestSubscribePopupAndSend: bizsend reaches only users who accepted the
// template (43101 otherwise); a one-time acceptance allows one message, a
// long-term one many; a rejection, in the dialog or the settings page,
// withdraws it. The account is pushed the popup, change and sent events.
func TestSubscribePopupAndSend(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	rec := env.recordPushes(t)
	ctx := t.Context()
	sub := env.c.Subscribe()
	list, _ := sub.ListTemplates(ctx)
	oneTime := list[0].PriTmplID
	data := map[string]SubscribeValue{"phrase1": {Value: "通过"}, "thing2": {Value: "会员认证"}, "time3": {Value: "2025-03-01 10:00"}}
	send := func(to, id string, d map[string]SubscribeValue) error {
		return sub.Send(ctx, &SubscribeSendRequest{ToUser: to, TemplateID: id, Data: d})
	}
	wantCode(t, "Subscribe.Send(not accepted)", send(env.users[0], oneTime, data), 43101)

	st, out := env.popup(t, fmt.Sprintf(`{"openid":%q,"template_id":%q,"accept":true,"scene":2}`, env.users[0], oneTime))
	if st != http.StatusOK || out["status"] != "accept" || out["push"] == nil {
		t.Fatalf("subscribe-popup = %d %v", st, out)
	}
	pops := rec.events(t, env, message.EventTypeSubscribeMsgPopup)
	wantPop := []message.SubscribeMsgPopup{{TemplateID: oneTime, SubscribeStatusString: "accept", PopupScene: "2"}}
	if len(pops) != 1 || pops[0].FromUserName != env.users[0] || !cmp.Equal(pops[0].SubscribeMsgPopupEvent, wantPop) {
		t.Fatalf("popup events = %+v, want one with %+v", pops, wantPop)
	}

	if err := send(env.users[0], oneTime, data); err != nil {
		t.Fatalf("Subscribe.Send(accepted) = %v", err)
	}
	wantCode(t, "Subscribe.Send(acceptance used)", send(env.users[0], oneTime, data), 43101)
	sent := rec.events(t, env, message.EventTypeSubscribeMsgSent)
	if len(sent) != 1 || len(sent[0].SubscribeMsgSentEvent) != 1 {
		t.Fatalf("sent events = %+v, want one", sent)
	}
	if s := sent[0].SubscribeMsgSentEvent[0]; s.TemplateID != oneTime || s.MsgID == 0 || s.ErrorCode != 0 || s.ErrorStatus != "success" {
		t.Errorf("subscribe_msg_sent_event = %+v", s)
	}

	// Two acceptances allow two messages; a rejection withdraws them.
	for range 2 {
		if _, err := env.srv.SubscribePopup(ctx, emuAppID, emulator.SubscribePopupRequest{OpenID: env.users[1], TemplateID: oneTime, Accept: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(env.users[1], oneTime, data); err != nil {
		t.Errorf("Subscribe.Send(1 of 2) = %v", err)
	}
	res, err := env.srv.SubscribePopup(ctx, emuAppID, emulator.SubscribePopupRequest{OpenID: env.users[1], TemplateID: oneTime})
	if err != nil || res.Status != "reject" {
		t.Fatalf("SubscribePopup(reject) = %+v, %v", res, err)
	}
	wantCode(t, "Subscribe.Send(after reject)", send(env.users[1], oneTime, data), 43101)

	// A long-term template: many messages until the settings page turns it off.
	lt, err := sub.AddTemplate(ctx, &SubscribeTemplateAddRequest{TID: "2206", KIDList: []int{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	ltData := map[string]SubscribeValue{"thing1": {Value: "1路"}, "thing2": {Value: "人民广场"}, "time3": {Value: "10:05"}}
	if _, err := env.srv.SubscribePopup(ctx, emuAppID, emulator.SubscribePopupRequest{OpenID: env.users[2], TemplateID: lt, Accept: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := send(env.users[2], lt, ltData); err != nil {
			t.Fatalf("Subscribe.Send(long-term #%d) = %v", i+1, err)
		}
	}
	st, out = env.popup(t, fmt.Sprintf(`{"openid":%q,"template_id":%q,"accept":false,"settings":true}`, env.users[2], lt))
	if st != http.StatusOK || out["status"] != "reject" {
		t.Fatalf("subscribe-popup(settings) = %d %v", st, out)
	}
	wantCode(t, "Subscribe.Send(long-term turned off)", send(env.users[2], lt, ltData), 43101)
	changes := rec.events(t, env, message.EventTypeSubscribeMsgChange)
	wantChange := []message.SubscribeMsgChange{{TemplateID: lt, SubscribeStatusString: "reject"}}
	if len(changes) != 1 || !cmp.Equal(changes[0].SubscribeMsgChangeEvent, wantChange) {
		t.Errorf("change events = %+v, want %+v", changes, wantChange)
	}
	if n := len(rec.events(t, env, message.EventTypeSubscribeMsgSent)); n != 5 {
		t.Errorf("%d subscribe_msg_sent_event pushed, want 5 (one per message sent)", n)
	}

	// Bad control requests change nothing.
	for _, tt := range []struct {
		body   string
		status int
	}{
		{`{"openid":"nobody","template_id":"` + oneTime + `","accept":true}`, http.StatusNotFound},
		{`{"template_id":"nope","accept":true}`, http.StatusBadRequest},
		{`{"template_id":"` + oneTime + `","accept":true,"scene":3}`, http.StatusBadRequest},
		{`{"template_id":"` + oneTime + `","accept":true,"settings":true}`, http.StatusBadRequest},
		{`{"template_id":"` + oneTime + `","accept":true,"extra":1}`, http.StatusBadRequest},
	} {
		if st, out := env.popup(t, tt.body); st != tt.status || out["error"] == nil {
			t.Errorf("subscribe-popup %s = %d %v, want %d with an error", tt.body, st, out, tt.status)
		}
	}
	wantCode(t, "Subscribe.Send(after bad popups)", send(env.users[0], oneTime, data), 43101)
}

// TestTemplateReadsAreMarked: the reads of the template and subscription
// services are retried on -1, their other calls are not.
func TestTemplateReadsAreMarked(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	noBackoff(env.c)
	ctx := t.Context()
	c := env.c
	byPath := map[string]struct {
		read bool
		call func() error
	}{
		"/cgi-bin/template/get_industry":         {true, func() error { _, err := c.Template().GetIndustry(ctx); return err }},
		"/wxaapi/newtmpl/getcategory":            {true, func() error { _, err := c.Subscribe().GetCategories(ctx); return err }},
		"/wxaapi/newtmpl/gettemplate":            {true, func() error { _, err := c.Subscribe().ListTemplates(ctx); return err }},
		"/wxaapi/newtmpl/getpubtemplatekeywords": {true, func() error { _, err := c.Subscribe().ListPubTemplateKeywords(ctx, "401"); return err }},
		"/wxaapi/newtmpl/getpubtemplatetitles": {true, func() error {
			_, err := c.Subscribe().ListPubTemplateTitles(ctx, []int{616}, 0, 10)
			return err
		}},
		"/cgi-bin/template/api_set_industry": {false, func() error { return c.Template().SetIndustry(ctx, 1, 2) }},
		"/cgi-bin/template/api_add_template": {false, func() error { _, err := c.Template().AddTemplate(ctx, "TM00015", nil); return err }},
		"/wxaapi/newtmpl/addtemplate": {false, func() error {
			_, err := c.Subscribe().AddTemplate(ctx, &SubscribeTemplateAddRequest{TID: "401", KIDList: []int{1, 2}})
			return err
		}},
		"/wxaapi/newtmpl/deltemplate": {false, func() error { return c.Subscribe().DeleteTemplate(ctx, "x") }},
	}
	got, want := map[string]int{}, map[string]int{}
	for path, tt := range byPath {
		env.faults(t, path, -1, -1)
		wantCode(t, path, tt.call(), -1)
		got[path] = env.calls(path)
		want[path] = 1
		if tt.read {
			want[path] = wxhttp.DefaultMaxAttempts
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls per path under -1 (-want +got):\n%s", diff)
	}
}
