package mp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/message"
)

// pushRecorder is an account's server that records the pushes it gets,
// parsed with package message, and answers "success".
type pushRecorder struct {
	mu   sync.Mutex
	msgs []*message.Message
}

// recordPushes points the emulator app's push URL at a new recorder.
func (env *emuEnv) recordPushes(t *testing.T) *pushRecorder {
	t.Helper()
	rec := &pushRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m, err := message.Parse(b)
		if err != nil {
			t.Errorf("push does not parse: %v\n%s", err, b)
		} else {
			rec.mu.Lock()
			rec.msgs = append(rec.msgs, m)
			rec.mu.Unlock()
		}
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(srv.Close)
	if err := env.srv.SetPushURL(emuAppID, srv.URL); err != nil {
		t.Fatal(err)
	}
	return rec
}

// events waits for the events API calls queued and returns the pushes of
// event ev received so far.
func (rec *pushRecorder) events(t *testing.T, env *emuEnv, ev message.EventType) []*message.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := env.srv.WaitEvents(ctx, emuAppID); err != nil {
		t.Fatalf("WaitEvents = %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []*message.Message
	for _, m := range rec.msgs {
		if m.Event == ev {
			out = append(out, m)
		}
	}
	return out
}

// TestTemplateSendJobFinish: every send is followed by TEMPLATESENDJOBFINISH
// with its msgid: "success" for a follower, "failed:user block" for a user
// the account blacklisted (who sees nothing); a user who does not follow
// gets 43004 and no event.
func TestTemplateSendJobFinish(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	rec := env.recordPushes(t)
	ctx := t.Context()
	list, err := env.c.Template().ListPrivate(ctx)
	if err != nil || len(list) == 0 {
		t.Fatalf("Template.ListPrivate = %v, %v", list, err)
	}
	msg := func(to string) *TemplateSendRequest {
		return &TemplateSendRequest{ToUser: to, TemplateID: list[0].TemplateID, Data: map[string]TemplateValue{"keyword1": {Value: "A-1"}}}
	}
	ok, err := env.c.Template().Send(ctx, msg(env.users[0]))
	if err != nil {
		t.Fatalf("Template.Send = %v", err)
	}
	if err := env.c.User().Blacklist(ctx, []string{env.users[1]}); err != nil {
		t.Fatal(err)
	}
	blocked, err := env.c.Template().Send(ctx, msg(env.users[1]))
	if err != nil {
		t.Fatalf("Template.Send(blacklisted) = %v, want a msgid (the failure comes in the event)", err)
	}
	_, err = env.c.Template().Send(ctx, msg(env.users[3]))
	wantCode(t, "Template.Send(not following)", err, 43004)

	evs := rec.events(t, env, message.EventTypeTemplateSendJobFinish)
	got := map[int64]string{}
	for _, m := range evs {
		got[m.MsgID] = m.Status
		if m.MsgType != message.MsgTypeEvent || m.ToUserName == "" || m.CreateTime != emuT0.Unix() {
			t.Errorf("event = %+v", m)
		}
	}
	want := map[int64]string{ok: "success", blocked: "failed:user block"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TEMPLATESENDJOBFINISH MsgID → Status (-want +got):\n%s", diff)
	}
	for _, m := range evs {
		if (m.MsgID == ok) != (m.FromUserName == env.users[0]) {
			t.Errorf("event for msgid %d from %s", m.MsgID, m.FromUserName)
		}
	}
	log, _ := env.srv.Conversation(emuAppID, env.users[1])
	i := slices.IndexFunc(log, func(e emulatorEntry) bool { return e.Via == "template" })
	if i < 0 || !log[i].Blocked {
		t.Errorf("blacklisted user's log = %+v, want the template marked not delivered", log)
	}
	i = slices.IndexFunc(log, func(e emulatorEntry) bool { return e.Event == "TEMPLATESENDJOBFINISH" })
	if i < 0 || log[i].Blocked {
		t.Errorf("blacklisted user's log = %+v, want the delivered TEMPLATESENDJOBFINISH", log)
	}
}

// TestTemplateSendSystemFailed: with a FailDelivery fault injected, the
// next send still answers its msgid and TEMPLATESENDJOBFINISH reports
// "failed: system failed"; the send after it succeeds.
func TestTemplateSendSystemFailed(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	rec := env.recordPushes(t)
	ctx := t.Context()
	list, err := env.c.Template().ListPrivate(ctx)
	if err != nil || len(list) == 0 {
		t.Fatalf("Template.ListPrivate = %v, %v", list, err)
	}
	if err := env.srv.InjectFault(emulator.Fault{Path: "/cgi-bin/message/template/send", AppID: emuAppID, FailDelivery: true}); err != nil {
		t.Fatal(err)
	}
	req := &TemplateSendRequest{ToUser: env.users[0], TemplateID: list[0].TemplateID, Data: map[string]TemplateValue{"keyword1": {Value: "A-1"}}}
	failed, err := env.c.Template().Send(ctx, req)
	if err != nil {
		t.Fatalf("Template.Send with a delivery fault = %v, want a msgid (the failure comes in the event)", err)
	}
	ok, err := env.c.Template().Send(ctx, req)
	if err != nil {
		t.Fatalf("Template.Send after the fault = %v", err)
	}
	got := map[int64]string{}
	for _, m := range rec.events(t, env, message.EventTypeTemplateSendJobFinish) {
		got[m.MsgID] = m.Status
	}
	want := map[int64]string{failed: "failed: system failed", ok: "success"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TEMPLATESENDJOBFINISH MsgID → Status (-want +got):\n%s", diff)
	}
}

// TestTemplateIndustry: the seeded industry, a change, the once-a-month
// limit (43100) and bad ids (40102, nothing changed).
func TestTemplateIndustry(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	tpl := env.c.Template()
	got, err := tpl.GetIndustry(ctx)
	want := &IndustrySetting{Primary: Industry{"IT科技", "互联网|电子商务"}, Secondary: Industry{"IT科技", "IT软件与服务"}}
	if err != nil || !cmp.Equal(got, want) {
		t.Fatalf("Template.GetIndustry = %+v, %v; want %+v", got, err, want)
	}
	for _, ids := range [][2]int{{0, 1}, {1, 42}, {-1, 3}} {
		wantCode(t, fmt.Sprintf("Template.SetIndustry(%d, %d)", ids[0], ids[1]), tpl.SetIndustry(ctx, ids[0], ids[1]), 40102)
	}
	if err := tpl.SetIndustry(ctx, 13, 41); err != nil {
		t.Fatalf("Template.SetIndustry(13, 41) = %v", err)
	}
	want = &IndustrySetting{Primary: Industry{"运输与仓储", "快递"}, Secondary: Industry{"其它", "其它"}}
	if got, err := tpl.GetIndustry(ctx); err != nil || !cmp.Equal(got, want) {
		t.Errorf("Template.GetIndustry = %+v, %v; want %+v", got, err, want)
	}
	wantCode(t, "Template.SetIndustry(again)", tpl.SetIndustry(ctx, 1, 2), 43100)
	env.advance(t, 29*24*time.Hour)
	wantCode(t, "Template.SetIndustry(29 days later)", tpl.SetIndustry(ctx, 1, 2), 43100)
	env.advance(t, 24*time.Hour)
	if err := tpl.SetIndustry(ctx, 1, 2); err != nil {
		t.Errorf("Template.SetIndustry(30 days later) = %v", err)
	}
}

// TestTemplateAdd: library numbers add templates that can be sent, up to
// 25 (45026); malformed numbers give 40037.
func TestTemplateAdd(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	tpl := env.c.Template()
	id, err := tpl.AddTemplate(ctx, "TM00015", nil)
	if err != nil || id == "" {
		t.Fatalf("Template.AddTemplate(TM00015) = %q, %v", id, err)
	}
	list, _ := tpl.ListPrivate(ctx)
	i := slices.IndexFunc(list, func(x Template) bool { return x.TemplateID == id })
	if i < 0 || list[i].Title != "订单支付成功" || !strings.Contains(list[i].Content, "{{orderMoneySum.DATA}}") || list[i].PrimaryIndustry != "IT科技" {
		t.Fatalf("Template.ListPrivate = %+v, want the added TM00015", list)
	}
	_, err = tpl.Send(ctx, &TemplateSendRequest{ToUser: env.users[0], TemplateID: id, Data: map[string]TemplateValue{"orderMoneySum": {Value: "30.00元"}}})
	if err != nil {
		t.Fatalf("Template.Send(added template) = %v", err)
	}
	log, _ := env.srv.Conversation(emuAppID, env.users[0])
	if i := slices.IndexFunc(log, func(e emulatorEntry) bool { return e.Via == "template" }); i < 0 || !strings.Contains(log[i].Text, "支付金额：30.00元") {
		t.Errorf("conversation = %+v, want the rendered TM00015", log)
	}
	kw, err := tpl.AddTemplate(ctx, "OPENTM200000001", []string{"订单号", "金额"})
	if err != nil {
		t.Fatalf("Template.AddTemplate(with keywords) = %v", err)
	}
	list, _ = tpl.ListPrivate(ctx)
	if i := slices.IndexFunc(list, func(x Template) bool { return x.TemplateID == kw }); i < 0 || list[i].Content != "订单号：{{keyword1.DATA}}\n金额：{{keyword2.DATA}}" {
		t.Errorf("Template.ListPrivate = %+v, want the keywords' template", list)
	}
	for _, bad := range []string{"", "TM1", "tm00015", "OPENTM1"} {
		_, err := tpl.AddTemplate(ctx, bad, nil)
		wantCode(t, fmt.Sprintf("Template.AddTemplate(%q)", bad), err, 40037)
	}
	for n := len(list); n < 25; n++ {
		if _, err := tpl.AddTemplate(ctx, "TM00001", nil); err != nil {
			t.Fatalf("Template.AddTemplate(#%d) = %v", n+1, err)
		}
	}
	_, err = tpl.AddTemplate(ctx, "TM00001", nil)
	wantCode(t, "Template.AddTemplate(26th)", err, 45026)
	if list, _ := tpl.ListPrivate(ctx); len(list) != 25 {
		t.Errorf("Template.ListPrivate has %d templates, want 25", len(list))
	}
}
