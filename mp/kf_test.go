package mp

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/message"
)

func TestKfAccounts(t *testing.T) {
	t.Parallel()
	env, _ := newMassEmu(t, nil)
	ctx := t.Context()
	cs := env.c.CustomerService()
	if err := cs.AddAccount(ctx, "kf1@gh_test", "小美"); err != nil {
		t.Fatalf("CustomerService.AddAccount = %v", err)
	}
	if err := cs.AddAccount(ctx, "kf2@gh_test", "小王"); err != nil {
		t.Fatal(err)
	}
	if err := cs.UpdateAccount(ctx, "kf2@gh_test", "王师傅"); err != nil {
		t.Fatalf("CustomerService.UpdateAccount = %v", err)
	}
	if err := cs.InviteWorker(ctx, "kf1@gh_test", "xiaomei_wx"); err != nil {
		t.Fatalf("CustomerService.InviteWorker = %v", err)
	}
	list, err := cs.ListAccounts(ctx)
	if err != nil {
		t.Fatalf("CustomerService.ListAccounts = %v", err)
	}
	var got [][3]string
	for _, k := range list {
		got = append(got, [3]string{k.Account, k.Nickname, k.InviteStatus})
	}
	want := [][3]string{{"kf1@gh_test", "小美", "waiting"}, {"kf2@gh_test", "王师傅", ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListAccounts mismatch (-want +got):\n%s", diff)
	}
	if list[0].InviteExpireTime != emuT0.Unix()+7*24*3600 || list[0].ID == "" || list[0].ID == list[1].ID {
		t.Errorf("ListAccounts[0] = %+v", list[0])
	}
	if on, err := cs.ListOnlineAccounts(ctx); err != nil || len(on) != 0 {
		t.Errorf("ListOnlineAccounts before acceptance = %v, %v, want none", on, err)
	}
	if err := env.srv.AcceptKfInvite(emuAppID, "kf1@gh_test"); err != nil {
		t.Fatal(err)
	}
	if on, err := cs.ListOnlineAccounts(ctx); err != nil || len(on) != 1 || on[0].Account != "kf1@gh_test" || on[0].Status != 1 {
		t.Errorf("ListOnlineAccounts = %+v, %v, want kf1 online", on, err)
	}

	tests := []struct {
		name string
		err  error
		code int
	}{
		{"add malformed", cs.AddAccount(ctx, "no-at-sign", "x"), 65404},
		{"add long prefix", cs.AddAccount(ctx, "abcdefghijk@gh_test", "x"), 65404},
		{"add empty nickname", cs.AddAccount(ctx, "kf3@gh_test", ""), 65403},
		{"add long nickname", cs.AddAccount(ctx, "kf3@gh_test", "一二三四五六七八九十一二三四五六七"), 65403},
		{"add exists", cs.AddAccount(ctx, "kf1@gh_test", "x"), 65406},
		{"update unknown", cs.UpdateAccount(ctx, "kf9@gh_test", "x"), 65401},
		{"invite bound", cs.InviteWorker(ctx, "kf1@gh_test", "someone_wx"), 65412},
		{"invite bad wx", cs.InviteWorker(ctx, "kf2@gh_test", "1x"), 65409},
		{"invite worker of the app", cs.InviteWorker(ctx, "kf2@gh_test", "xiaomei_wx"), 65407},
		{"delete unknown", cs.DeleteAccount(ctx, "kf9@gh_test"), 65401},
	}
	for _, tc := range tests {
		wantCode(t, tc.name, tc.err, tc.code)
	}
	if err := cs.DeleteAccount(ctx, "kf2@gh_test"); err != nil {
		t.Fatalf("CustomerService.DeleteAccount = %v", err)
	}
	if list, _ := cs.ListAccounts(ctx); len(list) != 1 {
		t.Errorf("after DeleteAccount: %d accounts, want 1", len(list))
	}
}

func TestKfSessions(t *testing.T) {
	t.Parallel()
	env, rc := newMassEmu(t, nil)
	ctx := t.Context()
	cs := env.c.CustomerService()
	u0, u1 := env.users[0], env.users[1]
	for _, kf := range []string{"kf1@gh_test", "kf2@gh_test"} {
		if err := cs.AddAccount(ctx, kf, "客服"); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.InviteWorker(ctx, "kf1@gh_test", "worker_one"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "CreateSession(offline worker)", cs.CreateSession(ctx, "kf1@gh_test", u0), 65415)
	if err := env.srv.AcceptKfInvite(emuAppID, "kf1@gh_test"); err != nil {
		t.Fatal(err)
	}

	// u1 asks for a person: the server transfers the message, u1 waits.
	if res, err := env.srv.Push(ctx, emuAppID, emulator.PushRequest{User: u1, Content: "人工"}); err != nil || !res.OK() {
		t.Fatalf("Push = %+v, %v", res, err)
	}
	cases, n, err := cs.ListWaitCases(ctx)
	if err != nil || n != 1 || len(cases) != 1 || cases[0].OpenID != u1 || cases[0].LatestTime != emuT0.Unix() {
		t.Fatalf("ListWaitCases = %+v, %d, %v, want u1 since T0", cases, n, err)
	}

	for _, u := range []string{u0, u1} {
		if err := cs.CreateSession(ctx, "kf1@gh_test", u); err != nil {
			t.Fatalf("CreateSession(%s) = %v", u, err)
		}
	}
	if cases, n, _ := cs.ListWaitCases(ctx); n != 0 || len(cases) != 0 {
		t.Errorf("ListWaitCases after the session = %+v, want none", cases)
	}
	s, err := cs.GetSession(ctx, u0)
	if err != nil || s.KfAccount != "kf1@gh_test" || s.CreateTime != emuT0.Unix() {
		t.Errorf("GetSession = %+v, %v", s, err)
	}
	list, err := cs.ListSessions(ctx, "kf1@gh_test")
	if err != nil || len(list) != 2 {
		t.Errorf("ListSessions = %+v, %v, want 2", list, err)
	}
	if on, _ := cs.ListOnlineAccounts(ctx); len(on) != 1 || on[0].AcceptedCase != 2 {
		t.Errorf("ListOnlineAccounts = %+v, want kf1 with 2 sessions", on)
	}
	if err := env.srv.SetKfStatus(emuAppID, "kf2@gh_test", 1); err == nil {
		t.Errorf("SetKfStatus(unbound account) = nil, want an error")
	}
	wantCode(t, "CreateSession(served by another)", cs.CreateSession(ctx, "kf2@gh_test", u0), 65414)
	wantCode(t, "CreateSession(stranger)", cs.CreateSession(ctx, "kf1@gh_test", "oStranger"), 40003)
	wantCode(t, "CloseSession(other worker)", cs.CloseSession(ctx, "kf2@gh_test", u0), 65413)

	// What the user says in the session is routed to the worker.
	env.push(t, u0, "我的订单没到")
	sessions, _ := env.srv.KfSessions(emuAppID)
	var said []string
	for _, s := range sessions {
		if s.OpenID == u0 {
			for _, m := range s.Messages {
				said = append(said, m.Text)
			}
		}
	}
	if diff := cmp.Diff([]string{"我的订单没到"}, said); diff != "" {
		t.Errorf("session messages (-want +got):\n%s", diff)
	}
	if texts := rc.texts(); slices.Contains(texts, "我的订单没到") {
		t.Errorf("a message in a session reached the push URL: %v", texts)
	}
	// After 30 idle minutes the messages go to the push URL again.
	if _, err := env.srv.Advance(31 * time.Minute); err != nil {
		t.Fatal(err)
	}
	env.push(t, u0, "还在吗")
	if texts := rc.texts(); !slices.Contains(texts, "还在吗") {
		t.Errorf("after 30 idle minutes the message did not reach the push URL: %v", texts)
	}

	if err := cs.CloseSession(ctx, "kf1@gh_test", u0); err != nil {
		t.Fatalf("CloseSession = %v", err)
	}
	if s, err := cs.GetSession(ctx, u0); err != nil || s.KfAccount != "" || s.CreateTime != 0 {
		t.Errorf("GetSession after close = %+v, %v, want none", s, err)
	}
	finishJobs(t, env)
	var events []string
	for _, ev := range []message.EventType{message.EventTypeKfCreateSession, message.EventTypeKfCloseSession} {
		for _, m := range rc.events(ev) {
			events = append(events, string(m.Event)+" "+m.FromUserName+" "+m.KfAccount)
		}
	}
	want := []string{
		"kf_create_session " + u0 + " kf1@gh_test", "kf_create_session " + u1 + " kf1@gh_test",
		"kf_close_session " + u0 + " kf1@gh_test",
	}
	if diff := cmp.Diff(want, events, cmpSortStrings); diff != "" {
		t.Errorf("session events (-want +got):\n%s", diff)
	}
}

// cmpSortStrings compares string slices as sets with repeats.
var cmpSortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// TestKfAccountDecodesBothIDForms decodes kf_id as the platform sends it
// (a number) and as its documentation shows it (a string).
func TestKfAccountDecodesBothIDForms(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"kf_account":"test1@test","kf_id":1001,"kf_nick":"ntest1"}`,
		`{"kf_account":"test1@test","kf_id":"1001","kf_nick":"ntest1"}`,
	} {
		var k KfAccount
		if err := json.Unmarshal([]byte(body), &k); err != nil || k.ID.String() != "1001" {
			t.Errorf("Unmarshal(%s) = %+v, %v, want kf_id 1001", body, k, err)
		}
	}
}
