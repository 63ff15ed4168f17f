package mp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/message"
)

// eventRecorder is a push URL that answers "success" and keeps the
// messages it was pushed, parsed.
// A text "人工" is answered with transfer_customer_service.
type eventRecorder struct {
	mu   sync.Mutex
	msgs []*message.Message
}

func (rc *eventRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	m, err := message.Parse(b)
	if err != nil {
		_, _ = io.WriteString(w, "success")
		return
	}
	rc.mu.Lock()
	rc.msgs = append(rc.msgs, m)
	rc.mu.Unlock()
	if m.MsgType == message.MsgTypeText && m.Content == "人工" {
		out, err := message.AppendReply(nil, m.FromUserName, m.ToUserName, m.CreateTime, &message.TransferCustomerService{})
		if err == nil {
			_, _ = w.Write(out)
			return
		}
	}
	_, _ = io.WriteString(w, "success")
}

// texts returns the contents of the pushed text messages.
func (rc *eventRecorder) texts() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, m := range rc.msgs {
		if m.MsgType == message.MsgTypeText {
			out = append(out, m.Content)
		}
	}
	return out
}

// events returns the pushed events of type ev.
func (rc *eventRecorder) events(ev message.EventType) []*message.Message {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []*message.Message
	for _, m := range rc.msgs {
		if m.Event == ev {
			out = append(out, m)
		}
	}
	return out
}

// newMassEmu starts an emulator whose app has five users: three follow,
// one does not, one is blacklisted (after start). mutate adjusts the app.
func newMassEmu(t *testing.T, mutate func(*emulator.AppConfig)) (*emuEnv, *eventRecorder) {
	t.Helper()
	rc := &eventRecorder{}
	recv := httptest.NewServer(rc)
	t.Cleanup(recv.Close)
	no := false
	app := emulator.AppConfig{
		AppID: emuAppID, Secret: emuSecret, Token: emuToken, Mode: emulator.ModePlain, PushURL: recv.URL,
		Users: []emulator.UserConfig{{Nickname: "张三"}, {Nickname: "李四"}, {Nickname: "Alice"}, {Nickname: "Gone", Subscribed: &no}, {Nickname: "Spam"}},
	}
	if mutate != nil {
		mutate(&app)
	}
	srv := emulatortest.New(t, emulator.Config{Apps: []emulator.AppConfig{app}}, emulator.WithClock(emulator.FixedClock(emuT0)))
	c, err := NewClient(emuAppID, emuSecret, WithBaseURL(srv.URL+"/"), WithHTTPClient(srv.HTTP.Client()))
	if err != nil {
		t.Fatal(err)
	}
	env := &emuEnv{srv: srv, c: c}
	for _, u := range srv.Apps()[0].Users {
		env.users = append(env.users, u.OpenID)
	}
	if err := c.User().Blacklist(t.Context(), []string{env.users[4]}); err != nil {
		t.Fatal(err)
	}
	return env, rc
}

// finishJobs moves the emulator past the mass job delay and waits for the
// MASSSENDJOBFINISH pushes.
func finishJobs(t *testing.T, env *emuEnv) {
	t.Helper()
	if _, err := env.srv.Advance(time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := env.srv.WaitMassJobs(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestMassSendAllToEveryone(t *testing.T) {
	t.Parallel()
	env, rc := newMassEmu(t, nil)
	ctx := t.Context()
	ms := env.c.Mass()
	res, err := ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{Content: "本周活动"}, ClientMsgID: "week-1"})
	if err != nil {
		t.Fatalf("Mass.SendAll = %v", err)
	}
	if st, err := ms.Get(ctx, res.MsgID); err != nil || st != MassStatusSending {
		t.Errorf("Mass.Get before the job ran = %q, %v, want SENDING", st, err)
	}
	finishJobs(t, env)
	if st, err := ms.Get(ctx, res.MsgID); err != nil || st != MassStatusSuccess {
		t.Errorf("Mass.Get after the job ran = %q, %v, want SEND_SUCCESS", st, err)
	}
	evs := rc.events(message.EventTypeMassSendJobFinish)
	if len(evs) != 1 {
		t.Fatalf("MASSSENDJOBFINISH pushed %d times, want 1", len(evs))
	}
	got := [5]any{evs[0].MsgID, evs[0].TotalCount, evs[0].FilterCount, evs[0].SentCount, evs[0].ErrorCount}
	if want := [5]any{res.MsgID, 5, 3, 3, 0}; got != want {
		t.Errorf("MASSSENDJOBFINISH MsgID/Total/Filter/Sent/Error = %v, want %v", got, want)
	}
	if evs[0].Status != "send success" {
		t.Errorf("Status = %q", evs[0].Status)
	}
	for i, u := range env.users {
		log, _ := env.srv.Conversation(emuAppID, u)
		var got []string
		for _, en := range log {
			if en.Via == "mass" {
				got = append(got, en.Text)
			}
		}
		var want []string
		if i < 3 {
			want = []string{"本周活动"}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("user %d mass messages (-want +got):\n%s", i, diff)
		}
	}

	// The same clientmsgid within 24 hours is refused.
	// It names the job that exists.
	again, err := ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{Content: "again"}, ClientMsgID: "week-1"})
	wantCode(t, "Mass.SendAll(same clientmsgid)", err, 45065)
	if again == nil || again.MsgID != res.MsgID {
		t.Errorf("Mass.SendAll(same clientmsgid) result = %+v, want the first job's msg_id %d", again, res.MsgID)
	}
}

func TestMassSendByTagAndList(t *testing.T) {
	t.Parallel()
	env, rc := newMassEmu(t, nil)
	ctx := t.Context()
	ms := env.c.Mass()
	tag, err := env.c.Tag().Create(ctx, "VIP")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.c.Tag().TagUsers(ctx, tag.ID, []string{env.users[1], env.users[4]}); err != nil {
		t.Fatal(err)
	}
	img := env.cover(t)
	draft, err := env.c.Draft().Add(ctx, []Article{{Title: "会员专享", Content: "<p>折扣</p>", ThumbMediaID: img.MediaID}})
	if err != nil {
		t.Fatal(err)
	}
	news, err := ms.SendAll(ctx, MassFilter{TagID: tag.ID}, &MassMessage{MsgType: MassMsgTypeMPNews, MPNews: &MassMedia{MediaID: draft}})
	if err != nil || news.MsgDataID == 0 {
		t.Fatalf("Mass.SendAll(tag, mpnews) = %+v, %v, want a msg_data_id", news, err)
	}
	list, err := ms.Send(ctx, []string{env.users[0], env.users[2], env.users[3]}, &MassMessage{MsgType: MassMsgTypeImage, Images: &MassImages{MediaIDs: []string{img.MediaID}}})
	if err != nil {
		t.Fatalf("Mass.Send = %v", err)
	}
	finishJobs(t, env)
	evs := rc.events(message.EventTypeMassSendJobFinish)
	if len(evs) != 2 {
		t.Fatalf("MASSSENDJOBFINISH pushed %d times, want 2", len(evs))
	}
	counts := map[int64][2]int{}
	for _, ev := range evs {
		counts[ev.MsgID] = [2]int{ev.TotalCount, ev.FilterCount}
	}
	if counts[list.MsgID] != [2]int{3, 2} {
		t.Errorf("Send counts (total, filter) = %v, want [3 2]", counts[list.MsgID])
	}
	for id, c := range counts {
		if id != list.MsgID && c != [2]int{2, 1} {
			t.Errorf("SendAll(tag) counts (total, filter) = %v, want [2 1]", c)
		}
	}
	// Four sends a month for a service account: two used.
	for range 2 {
		if _, err := ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{Content: "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{Content: "x"}})
	wantCode(t, "Mass.SendAll (5th this month)", err, 45028)
}

func TestMassErrors(t *testing.T) {
	t.Parallel()
	env, _ := newMassEmu(t, nil)
	ctx := t.Context()
	ms := env.c.Mass()
	text := &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{Content: "x"}}
	tests := []struct {
		name string
		call func() error
		code int
	}{
		{"unknown media", func() error {
			_, err := ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: MassMsgTypeMPNews, MPNews: &MassMedia{MediaID: "nope"}})
			return err
		}, 40007},
		{"empty text", func() error {
			_, err := ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{}})
			return err
		}, 44004},
		{"bad msgtype", func() error {
			_, err := ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: "music"})
			return err
		}, 40008},
		{"unknown tag", func() error { _, err := ms.SendAll(ctx, MassFilter{TagID: 999}, text); return err }, 40050},
		{"one openid", func() error { _, err := ms.Send(ctx, env.users[:1], text); return err }, 40130},
		{"stranger", func() error { _, err := ms.Send(ctx, []string{env.users[0], "oStranger"}, text); return err }, 40003},
		{"clientmsgid too long", func() error {
			_, err := ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{Content: "x"}, ClientMsgID: string(make([]byte, 65))})
			return err
		}, 45067},
		{"unknown msg_id", func() error { _, err := ms.Get(ctx, 1); return err }, 40035},
		{"delete unknown", func() error { return ms.Delete(ctx, 1, 0) }, 40035},
		{"speed out of range", func() error { return ms.SetSpeed(ctx, 5) }, 45083},
		{"preview non-follower", func() error { _, err := ms.Preview(ctx, env.users[3], text); return err }, 43004},
	}
	for _, tc := range tests {
		wantCode(t, tc.name, tc.call(), tc.code)
	}
	jobs, _ := env.srv.MassJobs(emuAppID)
	if len(jobs) != 0 {
		t.Errorf("failed sends started %d jobs", len(jobs))
	}

	if err := ms.SetSpeed(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if sp, err := ms.GetSpeed(ctx); err != nil || *sp != (MassSpeed{Speed: 2, RealSpeed: 45}) {
		t.Errorf("Mass.GetSpeed = %+v, %v, want 2/45", sp, err)
	}
	if _, err := ms.Preview(ctx, env.users[0], text); err != nil {
		t.Fatalf("Mass.Preview = %v", err)
	}
	log, _ := env.srv.Conversation(emuAppID, env.users[0])
	if len(log) == 0 || log[len(log)-1].Via != "mass_preview" || log[len(log)-1].Text != "x" {
		t.Errorf("preview not in the user's chat: %+v", log)
	}
}

func TestMassAccountKinds(t *testing.T) {
	t.Parallel()
	text := &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{Content: "x"}}
	t.Run("subscription", func(t *testing.T) {
		t.Parallel()
		env, _ := newMassEmu(t, func(a *emulator.AppConfig) { a.Subscription = true })
		ms := env.c.Mass()
		_, err := ms.Send(t.Context(), env.users[:2], text)
		wantCode(t, "Mass.Send (subscription account)", err, 48001)
		if _, err := ms.SendAll(t.Context(), MassFilter{IsToAll: true}, text); err != nil {
			t.Fatal(err)
		}
		_, err = ms.SendAll(t.Context(), MassFilter{IsToAll: true}, text)
		wantCode(t, "Mass.SendAll (2nd today, subscription account)", err, 45028)
	})
	t.Run("unverified", func(t *testing.T) {
		t.Parallel()
		env, _ := newMassEmu(t, func(a *emulator.AppConfig) { a.Unverified = true })
		_, err := env.c.Mass().SendAll(t.Context(), MassFilter{IsToAll: true}, text)
		wantCode(t, "Mass.SendAll (unverified)", err, 48001)
	})
}

// TestMassClientMsgIDRetry repeats a send with the same clientmsgid: within
// a minute of the previous attempt it is too fast (45066), after that and
// within 24 hours the job exists (45065), and after 24 hours the id is free.
func TestMassClientMsgIDRetry(t *testing.T) {
	t.Parallel()
	env, _ := newMassEmu(t, nil)
	ctx := t.Context()
	ms := env.c.Mass()
	send := func() (*MassResult, error) {
		return ms.SendAll(ctx, MassFilter{IsToAll: true}, &MassMessage{MsgType: MassMsgTypeText, Text: &MassText{Content: "通知"}, ClientMsgID: "notice-7"})
	}
	advance := func(d time.Duration) {
		t.Helper()
		if _, err := env.srv.Advance(d); err != nil {
			t.Fatal(err)
		}
	}
	first, err := send()
	if err != nil {
		t.Fatalf("Mass.SendAll = %v", err)
	}
	_, err = send()
	wantCode(t, "repeat at once", err, 45066)
	advance(59 * time.Second)
	_, err = send()
	wantCode(t, "repeat after 59 s", err, 45066)
	advance(time.Second)
	_, err = send()
	wantCode(t, "repeat after a minute", err, 45065)
	// The 45065 answer was an attempt: the next minute starts from it.
	advance(30 * time.Second)
	_, err = send()
	wantCode(t, "repeat 30 s after the 45065", err, 45066)
	advance(30 * time.Second)
	_, err = send()
	wantCode(t, "repeat a minute after the 45065", err, 45065)

	advance(24 * time.Hour)
	again, err := send()
	if err != nil {
		t.Fatalf("Mass.SendAll 24 hours later = %v, want a new job", err)
	}
	if again.MsgID == first.MsgID {
		t.Errorf("the send 24 hours later reused msg_id %d", first.MsgID)
	}
}
