package interop

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
)

// chinaTime is the zone of the data APIs' dates.
var chinaTime = time.FixedZone("CST", 8*3600)

// TestSilenceperDataCube: the SDK's data APIs (datacube/*) decode what the
// emulator counted on a day once it is over: a follow and an unfollow,
// the messages users sent, and the pushes to the account's server. Today,
// and a span over the API's largest, are refused (61501), as on the
// platform.
func TestSilenceperDataCube(t *testing.T) {
	emu := newEmulator(t)
	oa := newOfficialAccount(false)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "success") // no passive reply
	}))
	t.Cleanup(hs.Close)
	if err := emu.SetPushURL(emulator.DemoAppID, hs.URL+"/wx"); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	// Keep the day's events on one day of China time.
	now := emu.Now().In(chinaTime)
	if y, m, d := now.Date(); time.Date(y, m, d+1, 0, 0, 0, 0, chinaTime).Sub(now) < time.Minute {
		if _, err := emu.Advance(2 * time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for _, req := range []emulator.PushRequest{
		{User: userLi, Event: emulator.EventTypeUnsubscribe},
		{User: userLi, Event: emulator.EventTypeSubscribe},
		{User: userAlice, Event: emulator.EventTypeUnsubscribe},
		{User: userZhang, Content: "你好"},
		{User: userZhang, Content: "在吗"},
	} {
		if res, err := emu.Push(ctx, emulator.DemoAppID, req); err != nil || !res.OK() {
			t.Fatalf("Push(%+v) = %+v, %v", req, res, err)
		}
	}
	day := emu.Now().In(chinaTime).Format(time.DateOnly)
	cube := oa.GetDataCube()
	if _, err := cube.GetUserSummary(day, day); errcode(err) != 61501 {
		t.Errorf("GetUserSummary(today): err = %v, want errcode 61501", err)
	}

	if _, err := emu.Advance(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	// A new client: the old one's cached access_token expired with the day.
	cube = newOfficialAccount(false).GetDataCube()
	sum, err := cube.GetUserSummary(day, day)
	if err != nil {
		t.Fatalf("GetUserSummary: %v", err)
	}
	var newUsers, cancelled int
	for _, it := range sum.List {
		if it.RefDate != day {
			t.Errorf("GetUserSummary ref_date = %q, want %s", it.RefDate, day)
		}
		newUsers += it.NewUser
		cancelled += it.CancelUser
	}
	if newUsers != 1 || cancelled != 2 {
		t.Errorf("GetUserSummary = %+v, want 1 new user and 2 cancelled", sum.List)
	}
	cum, err := cube.GetUserAccumulate(day, day)
	followers := len(emu.Apps()[0].Users) - 1 // Alice left
	if err != nil || len(cum.List) != 1 || cum.List[0].CumulateUser != followers {
		t.Errorf("GetUserAccumulate = %+v, %v, want %d followers", cum.List, err, followers)
	}
	up, err := cube.GetUpstreamMsg(day, day)
	if err != nil || len(up.List) != 1 || up.List[0].MsgType != 1 || up.List[0].MsgUser != 1 || up.List[0].MsgCount != 2 {
		t.Errorf("GetUpstreamMsg = %+v, %v, want one user sending 2 texts (msg_type 1)", up.List, err)
	}
	api, err := cube.GetInterfaceSummary(day, day)
	if err != nil || len(api.List) != 1 || api.List[0].CallbackCount != 5 || api.List[0].FailCount != 0 {
		t.Errorf("GetInterfaceSummary = %+v, %v, want the 5 pushes, none failed", api.List, err)
	}
	d, err := time.ParseInLocation(time.DateOnly, day, chinaTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cube.GetUserSummary(d.AddDate(0, 0, -7).Format(time.DateOnly), day); errcode(err) != 61501 {
		t.Errorf("GetUserSummary over 8 days (7 at most): err = %v, want errcode 61501", err)
	}
}
