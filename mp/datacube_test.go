package mp

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
)

// day returns midnight of 2025-03-d in China time (emuT0 is 2025-03-01
// 10:00 there).
func day(d int) time.Time { return time.Date(2025, 3, d, 0, 0, 0, 0, emuT0.Location()) }

// mustPush makes a push or fails the test.
func (env *emuEnv) mustPush(t *testing.T, req emulator.PushRequest) {
	t.Helper()
	if _, err := env.srv.Push(t.Context(), emuAppID, req); err != nil {
		t.Fatalf("Push(%+v) = %v", req, err)
	}
}

// advance moves the emulator's clock.
func (env *emuEnv) advance(t *testing.T, d time.Duration) {
	t.Helper()
	if _, err := env.srv.Advance(d); err != nil {
		t.Fatal(err)
	}
}

// TestDataCubeUserSummary: a day on which N users follow reports N new
// users, and the number of followers moves with the follows.
func TestDataCubeUserSummary(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	dc := env.c.DataCube()
	// 03-01: users[3] follows; users[0..2] unfollow and users[0], [1]
	// follow again, one through a QR code.
	env.mustPush(t, emulator.PushRequest{User: env.users[3], Event: emulator.EventTypeSubscribe})
	for _, u := range env.users[:3] {
		env.mustPush(t, emulator.PushRequest{User: u, Event: emulator.EventTypeUnsubscribe})
	}
	env.mustPush(t, emulator.PushRequest{User: env.users[0], Event: emulator.EventTypeSubscribe})
	env.mustPush(t, emulator.PushRequest{User: env.users[1], Event: emulator.EventTypeSubscribe, EventKey: "qrscene_42"})

	// Today's data is not ready.
	_, err := dc.UserSummary(ctx, day(1), day(1))
	wantCode(t, "DataCube.UserSummary(today)", err, 61501)

	env.advance(t, 24*time.Hour)
	got, err := dc.UserSummary(ctx, day(1), day(1))
	if err != nil {
		t.Fatalf("DataCube.UserSummary = %v", err)
	}
	want := []UserSummary{
		{RefDate: "2025-03-01", UserSource: FollowSourceOther, NewUser: 2, CancelUser: 3},
		{RefDate: "2025-03-01", UserSource: FollowSourceQRCode, NewUser: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DataCube.UserSummary (-want +got):\n%s", diff)
	}
	cum, err := dc.UserCumulate(ctx, day(1).AddDate(0, 0, -1), day(1))
	if err != nil {
		t.Fatalf("DataCube.UserCumulate = %v", err)
	}
	wantCum := []UserCumulate{{"2025-02-28", 3}, {"2025-03-01", 3}}
	if diff := cmp.Diff(wantCum, cum); diff != "" {
		t.Errorf("DataCube.UserCumulate (-want +got):\n%s", diff)
	}
	// Dates are the calendar dates of the values, whatever their location.
	utc := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if got, err := dc.UserSummary(ctx, utc, utc); err != nil || len(got) != 2 || got[0].RefDate != "2025-03-01" {
		t.Errorf("DataCube.UserSummary(UTC dates) = %+v, %v", got, err)
	}
}

func TestDataCubeErrors(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	dc := env.c.DataCube()
	tests := []struct {
		name string
		call func() error
		code int
	}{
		{"UserSummary over 8 days", func() error {
			_, err := dc.UserSummary(ctx, day(1).AddDate(0, 0, -8), day(1).AddDate(0, 0, -1))
			return err
		}, 61501},
		{"UserCumulate ending today", func() error { _, err := dc.UserCumulate(ctx, day(1), day(1)); return err }, 61501},
		{"UserRead over 4 days", func() error {
			_, err := dc.UserRead(ctx, day(1).AddDate(0, 0, -4), day(1).AddDate(0, 0, -1))
			return err
		}, 61501},
		{"UpstreamMsgDist begin after end", func() error {
			_, err := dc.UpstreamMsgDist(ctx, day(1).AddDate(0, 0, -1), day(1).AddDate(0, 0, -2))
			return err
		}, 61501},
		{"ArticleSummary over 2 days", func() error {
			_, err := dc.ArticleSummary(ctx, day(1).AddDate(0, 0, -2), day(1).AddDate(0, 0, -1))
			return err
		}, 61501},
		{"zero dates", func() error { _, err := dc.InterfaceSummary(ctx, time.Time{}, time.Time{}); return err }, 0},
	}
	for _, tc := range tests {
		err := tc.call()
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s = %v, want nil (an empty list: no data before 2014-12-01)", tc.name, err)
			}
			continue
		}
		wantCode(t, tc.name, err, tc.code)
	}
	// A date the platform cannot read: send one by hand.
	var out struct {
		ErrCode int `json:"errcode"`
	}
	_ = json.Unmarshal(env.raw(t, "POST", "/datacube/getusersummary", `{"begin_date":"2025/02/27","end_date":"2025/02/28"}`), &out)
	if out.ErrCode != 61500 {
		t.Errorf("getusersummary with slashes = %d, want 61500", out.ErrCode)
	}
}

// TestDataCubeWire fills every data API with activity and decodes the
// emulator's answers strictly into the Go types, field for field.
func TestDataCubeWire(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	env.mustPush(t, emulator.PushRequest{User: env.users[3], Event: emulator.EventTypeSubscribe, EventKey: "qrscene_1"})
	env.mustPush(t, emulator.PushRequest{User: env.users[0], Content: "hi"})
	env.mustPush(t, emulator.PushRequest{User: env.users[1], Type: emulator.MsgTypeImage})
	const msgID = "2247483650_1"
	if err := env.srv.RecordArticleSent(emuAppID, emulator.SentArticle{MsgID: msgID, Title: "首发", TargetUser: 3}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []emulator.ArticleEvent{
		{User: env.users[0], MsgID: msgID, Action: emulator.ArticleRead},
		{User: env.users[1], MsgID: msgID, Action: emulator.ArticleRead, UserSource: ReadSourceMoments},
		{User: env.users[1], MsgID: msgID, Action: emulator.ArticleShare, ShareScene: ShareSceneMoments},
		{User: env.users[2], MsgID: msgID, Action: emulator.ArticleFavorite},
	} {
		if _, err := env.srv.RecordArticleEvent(emuAppID, ev); err != nil {
			t.Fatal(err)
		}
	}
	env.advance(t, 24*time.Hour)

	body := `{"begin_date":"2025-03-01","end_date":"2025-03-01"}`
	for path, v := range map[string]any{
		"getusersummary":          new([]UserSummary),
		"getusercumulate":         new([]UserCumulate),
		"getarticlesummary":       new([]ArticleSummary),
		"getarticletotal":         new([]ArticleTotal),
		"getuserread":             new([]UserRead),
		"getuserreadhour":         new([]UserReadHour),
		"getusershare":            new([]UserShare),
		"getusersharehour":        new([]UserShareHour),
		"getupstreammsg":          new([]UpstreamMsg),
		"getupstreammsghour":      new([]UpstreamMsgHour),
		"getupstreammsgweek":      new([]UpstreamMsg),
		"getupstreammsgmonth":     new([]UpstreamMsg),
		"getupstreammsgdist":      new([]UpstreamMsgDist),
		"getupstreammsgdistweek":  new([]UpstreamMsgDist),
		"getupstreammsgdistmonth": new([]UpstreamMsgDist),
		"getinterfacesummary":     new([]InterfaceSummary),
		"getinterfacesummaryhour": new([]InterfaceSummaryHour),
	} {
		var res struct {
			List json.RawMessage `json:"list"`
		}
		b := env.raw(t, "POST", "/datacube/"+path, body)
		if err := json.Unmarshal(b, &res); err != nil || len(res.List) < 3 {
			t.Errorf("%s: %s, want a list with rows", path, b)
			continue
		}
		decodeStrict(t, path, res.List, v)
	}

	// And through the methods.
	dc := env.c.DataCube()
	read, err := dc.UserRead(ctx, day(1), day(1))
	if err != nil || len(read) != 3 || read[0].UserSource != ReadSourceAll || read[0].IntPageReadUser != 2 || read[0].AddToFavCount != 1 {
		t.Errorf("DataCube.UserRead = %+v, %v; want the total and two sources", read, err)
	}
	total, err := dc.ArticleTotal(ctx, day(1), day(1))
	if err != nil || len(total) != 1 || len(total[0].Details) != 1 || total[0].Details[0].TargetUser != 3 ||
		total[0].Details[0].IntPageFromFeedReadUser != 1 || total[0].Details[0].FeedShareFromSessionCnt != 1 {
		t.Errorf("DataCube.ArticleTotal = %+v, %v", total, err)
	}
	up, err := dc.UpstreamMsg(ctx, day(1), day(1))
	wantUp := []UpstreamMsg{{"2025-03-01", UpstreamMsgText, 1, 1}, {"2025-03-01", UpstreamMsgImage, 1, 1}}
	if diff := cmp.Diff(wantUp, up); err != nil || diff != "" {
		t.Errorf("DataCube.UpstreamMsg = %v (-want +got):\n%s", err, diff)
	}
	hours, err := dc.UpstreamMsgHour(ctx, day(1), day(1))
	if err != nil || len(hours) != 2 || hours[0].RefHour != 1000 {
		t.Errorf("DataCube.UpstreamMsgHour = %+v, %v; want hour 1000", hours, err)
	}
	dist, err := dc.UpstreamMsgDistWeek(ctx, day(1), day(1))
	if diff := cmp.Diff([]UpstreamMsgDist{{"2025-02-24", CountInterval1To5, 2}}, dist); err != nil || diff != "" {
		t.Errorf("DataCube.UpstreamMsgDistWeek = %v (-want +got):\n%s", err, diff)
	}
	srv, err := dc.InterfaceSummary(ctx, day(1), day(1))
	if err != nil || len(srv) != 1 || srv[0].CallbackCount != 3 || srv[0].FailCount != 0 {
		t.Errorf("DataCube.InterfaceSummary = %+v, %v; want 3 deliveries", srv, err)
	}
}

// TestDataCubeDocSamples decodes bodies in the shape of the documented
// samples (every field the documentation lists).
func TestDataCubeDocSamples(t *testing.T) {
	t.Parallel()
	stats := `"int_page_read_user":45524,"int_page_read_count":48796,"ori_page_read_user":11,"ori_page_read_count":35,` +
		`"share_user":11,"share_count":276,"add_to_fav_user":5,"add_to_fav_count":15`
	for name, tc := range map[string]struct {
		body string
		v    any
	}{
		"getusersummary":  {`[{"ref_date":"2014-12-07","user_source":0,"new_user":0,"cancel_user":0}]`, new([]UserSummary)},
		"getusercumulate": {`[{"ref_date":"2014-12-07","cumulate_user":1217056}]`, new([]UserCumulate)},
		"getarticlesummary": {`[{"ref_date":"2014-12-08","msgid":"10000050_1","title":"12月27日 DiLi日报",` + stats + `}]`,
			new([]ArticleSummary)},
		"getarticletotal": {`[{"ref_date":"2014-12-14","msgid":"202457380_1","title":"马航丢画记","details":[{"stat_date":"2014-12-14",` +
			`"target_user":261917,` + stats + `,"int_page_from_session_read_user":657283,"int_page_from_session_read_count":753486,` +
			`"int_page_from_hist_msg_read_user":1669,"int_page_from_hist_msg_read_count":1920,"int_page_from_feed_read_user":367308,` +
			`"int_page_from_feed_read_count":433422,"int_page_from_friends_read_user":15428,"int_page_from_friends_read_count":19645,` +
			`"int_page_from_other_read_user":477,"int_page_from_other_read_count":703,"feed_share_from_session_user":63925,` +
			`"feed_share_from_session_cnt":66489,"feed_share_from_feed_user":18249,"feed_share_from_feed_cnt":19319,` +
			`"feed_share_from_other_user":731,"feed_share_from_other_cnt":775}]}]`, new([]ArticleTotal)},
		"getuserread":      {`[{"ref_date":"2014-12-07","user_source":99999999,` + stats + `}]`, new([]UserRead)},
		"getuserreadhour":  {`[{"ref_date":"2014-12-07","ref_hour":1200,"user_source":0,` + stats + `}]`, new([]UserReadHour)},
		"getusershare":     {`[{"ref_date":"2014-12-07","share_scene":1,"share_count":207,"share_user":11}]`, new([]UserShare)},
		"getusersharehour": {`[{"ref_date":"2014-12-07","ref_hour":1200,"share_scene":1,"share_count":72,"share_user":4}]`, new([]UserShareHour)},
		"getupstreammsg":   {`[{"ref_date":"2014-12-07","msg_type":1,"msg_user":282,"msg_count":817}]`, new([]UpstreamMsg)},
		"getupstreammsghour": {`[{"ref_date":"2014-12-07","ref_hour":0,"msg_type":1,"msg_user":9,"msg_count":10}]`,
			new([]UpstreamMsgHour)},
		"getupstreammsgdist": {`[{"ref_date":"2014-12-07","count_interval":1,"msg_user":246}]`, new([]UpstreamMsgDist)},
		"getinterfacesummary": {`[{"ref_date":"2014-12-07","callback_count":36974,"fail_count":67,"total_time_cost":14994291,"max_time_cost":5044}]`,
			new([]InterfaceSummary)},
		"getinterfacesummaryhour": {`[{"ref_date":"2014-12-01","ref_hour":0,"callback_count":424,"fail_count":0,"total_time_cost":25669,"max_time_cost":136}]`,
			new([]InterfaceSummaryHour)},
	} {
		decodeStrict(t, fmt.Sprint(name, " sample"), []byte(tc.body), tc.v)
	}
}

// dataCubeCalls returns a call of every data API by path (yesterday's
// data), for the retry tests.
func dataCubeCalls(ctx context.Context, dc *DataCubeService) map[string]func() error {
	d := day(1).AddDate(0, 0, -1)
	calls := map[string]func() error{}
	add := func(path string, f func() error) { calls["/datacube/"+path] = f }
	add("getusersummary", func() error { _, err := dc.UserSummary(ctx, d, d); return err })
	add("getusercumulate", func() error { _, err := dc.UserCumulate(ctx, d, d); return err })
	add("getarticlesummary", func() error { _, err := dc.ArticleSummary(ctx, d, d); return err })
	add("getarticletotal", func() error { _, err := dc.ArticleTotal(ctx, d, d); return err })
	add("getuserread", func() error { _, err := dc.UserRead(ctx, d, d); return err })
	add("getuserreadhour", func() error { _, err := dc.UserReadHour(ctx, d, d); return err })
	add("getusershare", func() error { _, err := dc.UserShare(ctx, d, d); return err })
	add("getusersharehour", func() error { _, err := dc.UserShareHour(ctx, d, d); return err })
	add("getupstreammsg", func() error { _, err := dc.UpstreamMsg(ctx, d, d); return err })
	add("getupstreammsghour", func() error { _, err := dc.UpstreamMsgHour(ctx, d, d); return err })
	add("getupstreammsgweek", func() error { _, err := dc.UpstreamMsgWeek(ctx, d, d); return err })
	add("getupstreammsgmonth", func() error { _, err := dc.UpstreamMsgMonth(ctx, d, d); return err })
	add("getupstreammsgdist", func() error { _, err := dc.UpstreamMsgDist(ctx, d, d); return err })
	add("getupstreammsgdistweek", func() error { _, err := dc.UpstreamMsgDistWeek(ctx, d, d); return err })
	add("getupstreammsgdistmonth", func() error { _, err := dc.UpstreamMsgDistMonth(ctx, d, d); return err })
	add("getinterfacesummary", func() error { _, err := dc.InterfaceSummary(ctx, d, d); return err })
	add("getinterfacesummaryhour", func() error { _, err := dc.InterfaceSummaryHour(ctx, d, d); return err })
	return calls
}
