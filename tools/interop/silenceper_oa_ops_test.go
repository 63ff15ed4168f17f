package interop

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/broadcast"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
)

// recordingServer is the account's server written with the SDK's message
// server: it answers "success" (no reply) and keeps the events it parsed.
func recordingServer(t *testing.T, emu *emulatortest.Server, oa *officialaccount.OfficialAccount) func() []*message.MixMessage {
	t.Helper()
	var mu sync.Mutex
	var got []*message.MixMessage
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv := oa.GetServer(r, w)
		srv.SetMessageHandler(func(msg *message.MixMessage) *message.Reply {
			mu.Lock()
			got = append(got, msg)
			mu.Unlock()
			return nil
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := srv.Send(); err != nil {
			t.Errorf("message server: Send: %v", err)
		}
	}))
	t.Cleanup(hs.Close)
	if err := emu.SetPushURL(emulator.DemoAppID, hs.URL+"/wx"); err != nil {
		t.Fatal(err)
	}
	return func() []*message.MixMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]*message.MixMessage(nil), got...)
	}
}

func TestSilenceperBasicAndQuota(t *testing.T) {
	newEmulator(t)
	b := newOfficialAccount(false).GetBasic()
	for name, get := range map[string]func() ([]string, error){"GetCallbackIP": b.GetCallbackIP, "GetAPIDomainIP": b.GetAPIDomainIP} {
		ips, err := get()
		if err != nil || len(ips) == 0 {
			t.Errorf("%s = %v, %v, want the emulator host's IPs", name, ips, err)
		}
	}
	for i := range 10 {
		if err := b.ClearQuota(); err != nil {
			t.Fatalf("ClearQuota #%d: %v", i+1, err)
		}
	}
	if err := b.ClearQuota(); errcode(err) != 48006 {
		t.Errorf("ClearQuota #11 this month: err = %v, want errcode 48006", err)
	}
	// shorturl was switched off by the platform (2021-03-15); the SDK still
	// offers it and reads the refusal.
	if short, err := b.Long2ShortURL("https://example.com/a/long/link"); errcode(err) != 45103 || short != "" {
		t.Errorf("Long2ShortURL = %q, %v, want errcode 45103", short, err)
	}
}

func TestSilenceperCustomerServiceAccounts(t *testing.T) {
	emu := newEmulator(t)
	mgr := newOfficialAccount(false).GetCustomerServiceManager()
	if err := mgr.Add("kf2001@gh_demo", "小美"); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := mgr.Update("kf2001@gh_demo", "客服小美"); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := mgr.InviteBind("kf2001@gh_demo", "xiaomei_wx"); err != nil {
		t.Fatalf("InviteBind: %v", err)
	}
	list, err := mgr.List()
	if err != nil {
		t.Fatalf("List: %v", err) // kf_id must be a JSON number for the SDK
	}
	if len(list) != 1 || list[0].KfNick != "客服小美" || list[0].KfID == 0 || list[0].InviteWX != "xiaomei_wx" || list[0].InviteStatus != "waiting" {
		t.Errorf("List = %+v", list)
	}
	// The head image: a file the SDK posts as "media"; getkflist then
	// points at it, on the emulator.
	head := filepath.Join(t.TempDir(), "head.png")
	img := testPNG(t)
	if err := os.WriteFile(head, img, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := mgr.UploadHeadImg("kf2001@gh_demo", head); err != nil {
		t.Fatalf("UploadHeadImg: %v", err)
	}
	if list, err = mgr.List(); err != nil || len(list) != 1 || !strings.HasPrefix(list[0].KfHeadImgURL, emu.URL+"/") {
		t.Fatalf("List after UploadHeadImg = %+v, %v, want kf_headimgurl on the emulator", list, err)
	}
	if got, err := util.HTTPGetContext(t.Context(), list[0].KfHeadImgURL); err != nil || !bytes.Equal(got, img) {
		t.Errorf("GET kf_headimgurl = %d bytes, %v, want the uploaded image", len(got), err)
	}
	notImage := filepath.Join(t.TempDir(), "head.jpg")
	if err := os.WriteFile(notImage, []byte("not an image"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := mgr.UploadHeadImg("kf2001@gh_demo", notImage); errcode(err) != 40005 {
		t.Errorf("UploadHeadImg of a text file: err = %v, want errcode 40005", err)
	}
	if err := mgr.UploadHeadImg("kf9@gh_demo", head); errcode(err) != 65401 {
		t.Errorf("UploadHeadImg for an unknown account: err = %v, want errcode 65401", err)
	}
	if err := mgr.Add("kf2001@gh_demo", "again"); errcode(err) != 65406 {
		t.Errorf("Add of an existing account: err = %v, want errcode 65406", err)
	}
	if err := emu.AcceptKfInvite(emulator.DemoAppID, "kf2001@gh_demo"); err != nil {
		t.Fatal(err)
	}
	online, err := mgr.OnlineList()
	if err != nil || len(online) != 1 || online[0].KfAccount != "kf2001@gh_demo" || online[0].Status != 1 {
		t.Errorf("OnlineList = %+v, %v", online, err)
	}
	if err := mgr.Delete("kf2001@gh_demo"); err != nil {
		t.Fatalf("Delete (POST, the SDK's form): %v", err)
	}
	if list, err := mgr.List(); err != nil || len(list) != 0 {
		t.Errorf("List after Delete = %+v, %v", list, err)
	}
}

func TestSilenceperBroadcast(t *testing.T) {
	emu := newEmulator(t)
	oa := newOfficialAccount(false)
	events := recordingServer(t, emu, oa)
	bc := oa.GetBroadcast()

	res, err := bc.SendText(nil, "本周上新")
	if err != nil {
		t.Fatalf("SendText to everyone: %v", err)
	}
	if st, err := bc.GetMassStatus(strconv.FormatInt(res.MsgID, 10)); err != nil || st.MsgStatus != "SENDING" {
		t.Errorf("GetMassStatus = %+v, %v, want SENDING", st, err)
	}
	if _, err := emu.Advance(time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := emu.WaitMassJobs(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, err := bc.GetMassStatus(strconv.FormatInt(res.MsgID, 10)); err != nil || st.MsgStatus != "SEND_SUCCESS" {
		t.Errorf("GetMassStatus after the job = %+v, %v, want SEND_SUCCESS", st, err)
	}
	var finished []*message.MixMessage
	for _, m := range events() {
		if m.Event == "MASSSENDJOBFINISH" {
			finished = append(finished, m)
		}
	}
	users := len(emu.Apps()[0].Users)
	if len(finished) != 1 || finished[0].TemplateMsgID != res.MsgID || finished[0].TotalCount != int64(users) ||
		finished[0].SentCount != finished[0].FilterCount || finished[0].SentCount == 0 {
		t.Errorf("MASSSENDJOBFINISH through the SDK's server = %+v (of %d users)", finished, users)
	}
	// 张三 got the message; the SDK's empty answer to the event (an
	// encrypted "") is nothing the user sees.
	got, _ := emu.Conversation(emulator.DemoAppID, userZhang)
	var mass, errs int
	for _, en := range got {
		switch {
		case en.Via == "mass" && en.Text == "本周上新":
			mass++
		case en.Via == "error":
			errs++
		}
	}
	if mass != 1 || errs != 0 {
		t.Errorf("张三's chat has %d mass messages and %d errors, want 1 and 0: %+v", mass, errs, got)
	}

	if _, err := bc.SendText(&broadcast.User{OpenID: []string{userZhang}}, "x"); errcode(err) != 40130 {
		t.Errorf("SendText to one OpenID: err = %v, want errcode 40130", err)
	}
	if _, err := bc.SetSpeed(1); err != nil {
		t.Errorf("SetSpeed: %v", err)
	}
	if sp, err := bc.GetSpeed(); err != nil || sp.Speed != 1 || sp.RealSpeed != 60 {
		t.Errorf("GetSpeed = %+v, %v, want 1 (60)", sp, err)
	}
	if _, err := bc.Preview().SendText(&broadcast.User{OpenID: []string{userLi}}, "预览"); err != nil {
		t.Errorf("Preview SendText: %v", err)
	}
}
