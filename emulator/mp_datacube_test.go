package emulator

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// cube calls a data API for [begin, end] and returns the errcode and the
// list (as JSON objects).
func cube(t *testing.T, e *Emulator, api, begin, end string) (int, []map[string]any) {
	t.Helper()
	tok := fetchToken(t, e) // a fresh token: tests move the clock by days
	body := fmt.Sprintf(`{"begin_date":%q,"end_date":%q}`, begin, end)
	code, m := mpCallJSON(t, e, tok, "POST", "/datacube/"+api, body)
	var list []map[string]any
	if l, ok := m["list"].([]any); ok {
		for _, x := range l {
			list = append(list, x.(map[string]any))
		}
	} else if code == 0 {
		t.Fatalf("%s: answer without a list: %v", api, m)
	}
	return code, list
}

// cubeRows decodes the list of a data API into []T.
func cubeRows[T any](t *testing.T, e *Emulator, api, begin, end string) []T {
	t.Helper()
	code, list := cube(t, e, api, begin, end)
	if code != 0 {
		t.Fatalf("%s %s..%s = errcode %d", api, begin, end, code)
	}
	b, _ := json.Marshal(list)
	var out []T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// newCubeTest returns an emulator at t0 (2025-03-01 10:00 China time) whose
// test app pushes in plain mode to a server answering "success", with
// users who do not follow yet (users[0..4]) and two followers
// (users[5], users[6]).
func newCubeTest(t *testing.T, respond http.HandlerFunc) (*Emulator, []string) {
	t.Helper()
	if respond == nil {
		respond = func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "success") }
	}
	srv := httptestServer(t, respond)
	no := false
	e := newTest(t, func(c *Config) {
		c.Apps[0].Mode, c.Apps[0].EncodingAESKey, c.Apps[0].PushURL = ModePlain, "", srv
		c.Apps[0].Users = []UserConfig{
			{Subscribed: &no}, {Subscribed: &no}, {Subscribed: &no}, {Subscribed: &no}, {Subscribed: &no},
			{}, {},
		}
	})
	var users []string
	for _, u := range e.Apps()[0].Users {
		users = append(users, u.OpenID)
	}
	return e, users
}

func httptestServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// mustPush makes a push or fails the test.
func mustPush(t *testing.T, e *Emulator, req PushRequest) *PushResult {
	t.Helper()
	res, err := e.Push(t.Context(), testAppID, req)
	if err != nil {
		t.Fatalf("Push(%+v) = %v", req, err)
	}
	return res
}

func TestDataCubeDateChecks(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil) // today is 2025-03-01
	tests := []struct {
		name, api, begin, end string
		code                  int
	}{
		{"yesterday", "getusersummary", "2025-02-28", "2025-02-28", 0},
		{"seven days", "getusersummary", "2025-02-22", "2025-02-28", 0},
		{"eight days", "getusersummary", "2025-02-21", "2025-02-28", 61501},
		{"today", "getusersummary", "2025-03-01", "2025-03-01", 61501},
		{"ending today", "getusercumulate", "2025-02-25", "2025-03-01", 61501},
		{"future", "getusercumulate", "2025-03-05", "2025-03-05", 61501},
		{"begin after end", "getusercumulate", "2025-02-20", "2025-02-19", 61501},
		{"slashes", "getusersummary", "2025/02/27", "2025/02/28", 61500},
		{"no leading zeros", "getusersummary", "2025-2-27", "2025-2-28", 61500},
		{"yyyymmdd", "getupstreammsg", "20250227", "20250228", 61500},
		{"missing end", "getupstreammsg", "2025-02-27", "", 61500},
		{"not a day", "getupstreammsg", "2025-02-30", "2025-02-30", 61500},
	}
	for _, tc := range tests {
		code, _ := cube(t, e, tc.api, tc.begin, tc.end)
		if code != tc.code {
			t.Errorf("%s: %s(%s, %s) = %d, want %d", tc.name, tc.api, tc.begin, tc.end, code, tc.code)
		}
	}
	// Every API takes its span and refuses one day more.
	spans := map[string]int{
		"getusersummary": 7, "getusercumulate": 7, "getarticlesummary": 1, "getarticletotal": 1,
		"getuserread": 3, "getuserreadhour": 1, "getusershare": 7, "getusersharehour": 1,
		"getupstreammsg": 7, "getupstreammsghour": 1, "getupstreammsgweek": 30, "getupstreammsgmonth": 30,
		"getupstreammsgdist": 15, "getupstreammsgdistweek": 30, "getupstreammsgdistmonth": 30,
		"getinterfacesummary": 30, "getinterfacesummaryhour": 1,
	}
	if len(spans) != len(cubeRoutes) {
		t.Errorf("%d data APIs served, %d tested", len(cubeRoutes), len(spans))
	}
	end := time.Date(2025, 2, 28, 0, 0, 0, 0, beijing)
	for api, span := range spans {
		begin := end.AddDate(0, 0, 1-span)
		if code, _ := cube(t, e, api, begin.Format(time.DateOnly), "2025-02-28"); code != 0 {
			t.Errorf("%s over %d days = %d, want 0", api, span, code)
		}
		if code, _ := cube(t, e, api, begin.AddDate(0, 0, -1).Format(time.DateOnly), "2025-02-28"); code != 61501 {
			t.Errorf("%s over %d days = %d, want 61501", api, span+1, code)
		}
	}
	tok := fetchToken(t, e)
	if code, _ := mpCallJSON(t, e, tok, "GET", "/datacube/getusersummary", ""); code != 43002 {
		t.Errorf("GET getusersummary = %d, want 43002", code)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/datacube/getusersummary", ""); code != 44002 {
		t.Errorf("getusersummary without a body = %d, want 44002", code)
	}
}

type userSummaryRow struct {
	RefDate    string `json:"ref_date"`
	UserSource int    `json:"user_source"`
	NewUser    int    `json:"new_user"`
	CancelUser int    `json:"cancel_user"`
}

type cumulateRow struct {
	RefDate      string `json:"ref_date"`
	CumulateUser int    `json:"cumulate_user"`
}

// TestDataCubeNewFollows: a day on which N users follow reports N new
// users, and the follower count moves by N.
func TestDataCubeNewFollows(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			e, users := newCubeTest(t, nil)
			for _, u := range users[:n] {
				mustPush(t, e, PushRequest{User: u, Event: EventTypeSubscribe})
			}
			advance(t, e, 24*time.Hour)
			got := cubeRows[userSummaryRow](t, e, "getusersummary", "2025-03-01", "2025-03-01")
			want := []userSummaryRow{{RefDate: "2025-03-01", UserSource: 0, NewUser: n}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("getusersummary (-want +got):\n%s", diff)
			}
			cum := cubeRows[cumulateRow](t, e, "getusercumulate", "2025-02-28", "2025-03-01")
			wantCum := []cumulateRow{{"2025-02-28", 2}, {"2025-03-01", 2 + n}}
			if diff := cmp.Diff(wantCum, cum); diff != "" {
				t.Errorf("getusercumulate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDataCubeUserSummaryAndCumulate(t *testing.T) {
	t.Parallel()
	e, users := newCubeTest(t, nil)
	// Day 1 (03-01): two follow, one through a QR code; a follower leaves;
	// a follow repeated by a follower changes nothing.
	mustPush(t, e, PushRequest{User: users[0], Event: EventTypeSubscribe})
	mustPush(t, e, PushRequest{User: users[1], Event: EventTypeSubscribe, EventKey: "qrscene_7", Ticket: "T"})
	mustPush(t, e, PushRequest{User: users[5], Event: EventTypeUnsubscribe})
	mustPush(t, e, PushRequest{User: users[6], Event: EventTypeSubscribe})
	// Day 2: nothing. Day 3 (03-03): the QR follower leaves, two follow.
	advance(t, e, 48*time.Hour)
	mustPush(t, e, PushRequest{User: users[1], Event: EventTypeUnsubscribe})
	mustPush(t, e, PushRequest{User: users[2], Event: EventTypeSubscribe})
	mustPush(t, e, PushRequest{User: users[3], Event: EventTypeSubscribe, EventKey: "qrscene_8"})
	// On 03-03 the day is not over.
	if code, _ := cube(t, e, "getusersummary", "2025-03-01", "2025-03-03"); code != 61501 {
		t.Errorf("getusersummary through today = %d, want 61501", code)
	}
	advance(t, e, 24*time.Hour)
	got := cubeRows[userSummaryRow](t, e, "getusersummary", "2025-02-28", "2025-03-03")
	want := []userSummaryRow{
		{"2025-02-28", 0, 0, 0},
		{"2025-03-01", 0, 1, 1},
		{"2025-03-01", 30, 1, 0},
		{"2025-03-02", 0, 0, 0},
		{"2025-03-03", 0, 1, 0},
		{"2025-03-03", 30, 1, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("getusersummary (-want +got):\n%s", diff)
	}
	cum := cubeRows[cumulateRow](t, e, "getusercumulate", "2025-02-27", "2025-03-03")
	wantCum := []cumulateRow{{"2025-02-27", 2}, {"2025-02-28", 2}, {"2025-03-01", 3}, {"2025-03-02", 3}, {"2025-03-03", 4}}
	if diff := cmp.Diff(wantCum, cum); diff != "" {
		t.Errorf("getusercumulate (-want +got):\n%s", diff)
	}
	// The last day agrees with the follower list.
	if n := len(followersOf(e)); n != 4 {
		t.Errorf("followers now = %d, want 4", n)
	}
}

// followersOf returns the followers of the test app.
func followersOf(e *Emulator) []string {
	var ids []string
	for _, u := range e.Apps()[0].Users {
		if u.Subscribed {
			ids = append(ids, u.OpenID)
		}
	}
	return ids
}

type upstreamRow struct {
	RefDate  string `json:"ref_date"`
	RefHour  *int   `json:"ref_hour,omitempty"`
	MsgType  int    `json:"msg_type"`
	MsgUser  int    `json:"msg_user"`
	MsgCount int    `json:"msg_count"`
}

type distRow struct {
	RefDate       string `json:"ref_date"`
	CountInterval int    `json:"count_interval"`
	MsgUser       int    `json:"msg_user"`
}

func TestDataCubeUpstreamMessages(t *testing.T) {
	t.Parallel()
	e, users := newCubeTest(t, nil)
	a, b := users[5], users[6]
	// 03-01 10:00: a sends 3 texts and an image, b 1 text and a link;
	// events and locations are not messages of the statistics.
	for range 3 {
		mustPush(t, e, PushRequest{User: a, Content: "hi"})
	}
	mustPush(t, e, PushRequest{User: a, Type: MsgTypeImage})
	mustPush(t, e, PushRequest{User: b, Content: "yo"})
	mustPush(t, e, PushRequest{User: b, Type: MsgTypeLink, Title: "t", URL: "http://a.cn"})
	mustPush(t, e, PushRequest{User: b, Event: EventTypeClick, EventKey: "K"})
	mustPush(t, e, PushRequest{User: b, Type: MsgTypeLocation})
	// 03-01 13:00: b sends 6 voices.
	advance(t, e, 3*time.Hour)
	for range 6 {
		mustPush(t, e, PushRequest{User: b, Type: MsgTypeVoice})
	}
	// 03-03 (Monday): a sends a short video.
	advance(t, e, 45*time.Hour)
	mustPush(t, e, PushRequest{User: a, Type: MsgTypeShortVideo})
	advance(t, e, 24*time.Hour) // today is 03-04

	daily := cubeRows[upstreamRow](t, e, "getupstreammsg", "2025-03-01", "2025-03-03")
	wantDaily := []upstreamRow{
		{RefDate: "2025-03-01", MsgType: 1, MsgUser: 2, MsgCount: 4},
		{RefDate: "2025-03-01", MsgType: 2, MsgUser: 1, MsgCount: 1},
		{RefDate: "2025-03-01", MsgType: 3, MsgUser: 1, MsgCount: 6},
		{RefDate: "2025-03-01", MsgType: 6, MsgUser: 1, MsgCount: 1},
		{RefDate: "2025-03-03", MsgType: 4, MsgUser: 1, MsgCount: 1},
	}
	if diff := cmp.Diff(wantDaily, daily); diff != "" {
		t.Errorf("getupstreammsg (-want +got):\n%s", diff)
	}

	hourly := cubeRows[upstreamRow](t, e, "getupstreammsghour", "2025-03-01", "2025-03-01")
	h10, h13 := 1000, 1300
	wantHourly := []upstreamRow{
		{RefDate: "2025-03-01", RefHour: &h10, MsgType: 1, MsgUser: 2, MsgCount: 4},
		{RefDate: "2025-03-01", RefHour: &h10, MsgType: 2, MsgUser: 1, MsgCount: 1},
		{RefDate: "2025-03-01", RefHour: &h10, MsgType: 6, MsgUser: 1, MsgCount: 1},
		{RefDate: "2025-03-01", RefHour: &h13, MsgType: 3, MsgUser: 1, MsgCount: 6},
	}
	if diff := cmp.Diff(wantHourly, hourly); diff != "" {
		t.Errorf("getupstreammsghour (-want +got):\n%s", diff)
	}

	// Weeks by their Monday: 02-24 holds 03-01 (a Saturday), 03-03 starts the next.
	weekly := cubeRows[upstreamRow](t, e, "getupstreammsgweek", "2025-03-01", "2025-03-03")
	wantWeekly := []upstreamRow{
		{RefDate: "2025-02-24", MsgType: 1, MsgUser: 2, MsgCount: 4},
		{RefDate: "2025-02-24", MsgType: 2, MsgUser: 1, MsgCount: 1},
		{RefDate: "2025-02-24", MsgType: 3, MsgUser: 1, MsgCount: 6},
		{RefDate: "2025-02-24", MsgType: 6, MsgUser: 1, MsgCount: 1},
		{RefDate: "2025-03-03", MsgType: 4, MsgUser: 1, MsgCount: 1},
	}
	if diff := cmp.Diff(wantWeekly, weekly); diff != "" {
		t.Errorf("getupstreammsgweek (-want +got):\n%s", diff)
	}
	monthly := cubeRows[upstreamRow](t, e, "getupstreammsgmonth", "2025-02-20", "2025-03-03")
	wantMonthly := []upstreamRow{
		{RefDate: "2025-03-01", MsgType: 1, MsgUser: 2, MsgCount: 4},
		{RefDate: "2025-03-01", MsgType: 2, MsgUser: 1, MsgCount: 1},
		{RefDate: "2025-03-01", MsgType: 3, MsgUser: 1, MsgCount: 6},
		{RefDate: "2025-03-01", MsgType: 4, MsgUser: 1, MsgCount: 1},
		{RefDate: "2025-03-01", MsgType: 6, MsgUser: 1, MsgCount: 1},
	}
	if diff := cmp.Diff(wantMonthly, monthly); diff != "" {
		t.Errorf("getupstreammsgmonth (-want +got):\n%s", diff)
	}

	// On 03-01 a sent 4 messages (1-5), b 8 (6-10); on 03-03 a sent 1.
	dist := cubeRows[distRow](t, e, "getupstreammsgdist", "2025-03-01", "2025-03-03")
	wantDist := []distRow{{"2025-03-01", 1, 1}, {"2025-03-01", 2, 1}, {"2025-03-03", 1, 1}}
	if diff := cmp.Diff(wantDist, dist); diff != "" {
		t.Errorf("getupstreammsgdist (-want +got):\n%s", diff)
	}
	// In March a sent 5 (1-5) and b 8 (6-10).
	distMonth := cubeRows[distRow](t, e, "getupstreammsgdistmonth", "2025-03-01", "2025-03-03")
	if diff := cmp.Diff([]distRow{{"2025-03-01", 1, 1}, {"2025-03-01", 2, 1}}, distMonth); diff != "" {
		t.Errorf("getupstreammsgdistmonth (-want +got):\n%s", diff)
	}
	distWeek := cubeRows[distRow](t, e, "getupstreammsgdistweek", "2025-03-03", "2025-03-03")
	if diff := cmp.Diff([]distRow{{"2025-03-03", 1, 1}}, distWeek); diff != "" {
		t.Errorf("getupstreammsgdistweek (-want +got):\n%s", diff)
	}
}

func TestDataCubeDistIntervals(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]int{1: 1, 5: 1, 6: 2, 10: 2, 11: 3} {
		if got := distInterval(n); got != want {
			t.Errorf("distInterval(%d) = %d, want %d", n, got, want)
		}
	}
}

type interfaceRow struct {
	RefDate       string `json:"ref_date"`
	RefHour       *int   `json:"ref_hour,omitempty"`
	CallbackCount int    `json:"callback_count"`
	FailCount     int    `json:"fail_count"`
	TotalTimeCost int64  `json:"total_time_cost"`
	MaxTimeCost   int64  `json:"max_time_cost"`
}

// TestDataCubeInterfaceSummary: every delivery to the push URL counts, the
// failed ones (here HTTP 500, delivered three times) as failures.
func TestDataCubeInterfaceSummary(t *testing.T) {
	t.Parallel()
	e, users := newCubeTest(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if inboundContent(b) == "fail" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "success")
	})
	mustPush(t, e, PushRequest{User: users[5], Content: "ok"})
	mustPush(t, e, PushRequest{User: users[5], Content: "ok"})
	if res := mustPush(t, e, PushRequest{User: users[6], Content: "fail"}); res.OK() || len(res.Attempts) != 3 {
		t.Fatalf("failing push = %+v, want 3 failed attempts", res)
	}
	advance(t, e, 24*time.Hour)
	rows := cubeRows[interfaceRow](t, e, "getinterfacesummary", "2025-02-28", "2025-03-01")
	if len(rows) != 1 || rows[0].RefDate != "2025-03-01" || rows[0].CallbackCount != 5 || rows[0].FailCount != 3 ||
		rows[0].TotalTimeCost < rows[0].MaxTimeCost || rows[0].RefHour != nil {
		t.Errorf("getinterfacesummary = %+v, want one day with 5 deliveries, 3 failed", rows)
	}
	hours := cubeRows[interfaceRow](t, e, "getinterfacesummaryhour", "2025-03-01", "2025-03-01")
	if len(hours) != 1 || hours[0].RefHour == nil || *hours[0].RefHour != 1000 || hours[0].CallbackCount != 5 {
		t.Errorf("getinterfacesummaryhour = %+v, want hour 1000 with 5 deliveries", hours)
	}
}

// inboundContent returns the Content of a plain push body.
func inboundContent(b []byte) string {
	var m inboundXML
	_ = xml.Unmarshal(b, &m)
	return m.Content
}

// Counters are the reading counters of the article APIs (exported so that
// cmp compares them when embedded).
type Counters struct {
	IntPageReadUser  int `json:"int_page_read_user"`
	IntPageReadCount int `json:"int_page_read_count"`
	OriPageReadUser  int `json:"ori_page_read_user"`
	OriPageReadCount int `json:"ori_page_read_count"`
	ShareUser        int `json:"share_user"`
	ShareCount       int `json:"share_count"`
	AddToFavUser     int `json:"add_to_fav_user"`
	AddToFavCount    int `json:"add_to_fav_count"`
}

type articleSummaryRow struct {
	RefDate string `json:"ref_date"`
	MsgID   string `json:"msgid"`
	Title   string `json:"title"`
	Counters
}

type userReadRow struct {
	RefDate    string `json:"ref_date"`
	RefHour    *int   `json:"ref_hour,omitempty"`
	UserSource int    `json:"user_source"`
	Counters
}

type userShareRow struct {
	RefDate    string `json:"ref_date"`
	RefHour    *int   `json:"ref_hour,omitempty"`
	ShareScene int    `json:"share_scene"`
	ShareCount int    `json:"share_count"`
	ShareUser  int    `json:"share_user"`
}

// read records article events or fails the test.
func read(t *testing.T, e *Emulator, evs ...ArticleEvent) {
	t.Helper()
	for _, ev := range evs {
		if _, err := e.RecordArticleEvent(testAppID, ev); err != nil {
			t.Fatalf("RecordArticleEvent(%+v) = %v", ev, err)
		}
	}
}

func TestDataCubeArticles(t *testing.T) {
	t.Parallel()
	e, users := newCubeTest(t, nil)
	a, b, c := users[5], users[6], users[0]
	const m1, m2 = "1000000001_1", "1000000001_2"
	if err := e.RecordArticleSent(testAppID, SentArticle{MsgID: m1, Title: "春季上新", TargetUser: 2}); err != nil {
		t.Fatal(err)
	}
	// 03-01 10:00: a reads m1 twice from the chat and opens its original
	// link; b reads it from Moments and shares it to Moments; c shares it
	// to a friend from the history page. m2 (not recorded as sent) is read
	// once: below the floor of getarticlesummary.
	read(t, e,
		ArticleEvent{User: a, MsgID: m1, Action: ArticleRead},
		ArticleEvent{User: a, MsgID: m1, Action: ArticleRead},
		ArticleEvent{User: a, MsgID: m1, Action: ArticleReadOriginal},
		ArticleEvent{User: b, MsgID: m1, Action: ArticleRead, UserSource: 2},
		ArticleEvent{User: b, MsgID: m1, Action: ArticleShare, UserSource: 2, ShareScene: ShareSceneMoments},
		ArticleEvent{User: c, MsgID: m1, Action: ArticleShare, UserSource: 4},
		ArticleEvent{User: a, MsgID: m2, Title: "第二篇", Action: ArticleRead},
	)
	// 03-02 15:00: c saves m1 and reads it from a friend's share.
	advance(t, e, 29*time.Hour)
	read(t, e,
		ArticleEvent{User: c, MsgID: m1, Action: ArticleFavorite, UserSource: 1},
		ArticleEvent{User: c, MsgID: m1, Action: ArticleRead, UserSource: 1},
	)
	advance(t, e, 24*time.Hour) // today is 03-03

	sum := cubeRows[articleSummaryRow](t, e, "getarticlesummary", "2025-03-01", "2025-03-01")
	wantSum := []articleSummaryRow{{"2025-03-01", m1, "春季上新", Counters{
		IntPageReadUser: 2, IntPageReadCount: 3, OriPageReadUser: 1, OriPageReadCount: 1, ShareUser: 2, ShareCount: 2}}}
	if diff := cmp.Diff(wantSum, sum); diff != "" {
		t.Errorf("getarticlesummary (-want +got):\n%s", diff)
	}
	// 03-02: 2 reads counted (int_page_read_user 1 + fav 1 = 2 < 3): left out.
	if sum := cubeRows[articleSummaryRow](t, e, "getarticlesummary", "2025-03-02", "2025-03-02"); len(sum) != 0 {
		t.Errorf("getarticlesummary(03-02) = %+v, want nothing below the floor", sum)
	}

	// getarticletotal: m1 sent on 03-01, totals up to 03-01 and 03-02.
	_, total := cube(t, e, "getarticletotal", "2025-03-01", "2025-03-01")
	if len(total) != 1 || total[0]["msgid"] != m1 || total[0]["title"] != "春季上新" {
		t.Fatalf("getarticletotal = %v, want m1", total)
	}
	details := total[0]["details"].([]any)
	if len(details) != 2 {
		t.Fatalf("getarticletotal details = %v, want 03-01 and 03-02", details)
	}
	d2 := details[1].(map[string]any)
	for k, want := range map[string]float64{
		"target_user": 2, "int_page_read_user": 3, "int_page_read_count": 4, "share_user": 2, "share_count": 2,
		"add_to_fav_user": 1, "int_page_from_session_read_user": 1, "int_page_from_session_read_count": 2,
		"int_page_from_feed_read_user": 1, "int_page_from_friends_read_count": 1, "int_page_from_hist_msg_read_user": 0,
		"feed_share_from_feed_user": 1, "feed_share_from_feed_cnt": 1, "feed_share_from_session_cnt": 0, "feed_share_from_other_cnt": 0,
	} {
		if d2[k] != want {
			t.Errorf("getarticletotal details[03-02].%s = %v, want %v", k, d2[k], want)
		}
	}
	if d2["stat_date"] != "2025-03-02" || details[0].(map[string]any)["int_page_read_count"] != 3.0 {
		t.Errorf("getarticletotal details = %v", details)
	}
	if _, none := cube(t, e, "getarticletotal", "2025-03-02", "2025-03-02"); len(none) != 0 {
		t.Errorf("getarticletotal(03-02) = %v, want nothing sent that day", none)
	}

	reads := cubeRows[userReadRow](t, e, "getuserread", "2025-03-01", "2025-03-02")
	wantReads := []userReadRow{
		{RefDate: "2025-03-01", UserSource: 99999999, Counters: Counters{IntPageReadUser: 2, IntPageReadCount: 4,
			OriPageReadUser: 1, OriPageReadCount: 1, ShareUser: 2, ShareCount: 2}},
		{RefDate: "2025-03-01", UserSource: 0, Counters: Counters{IntPageReadUser: 1, IntPageReadCount: 3, OriPageReadUser: 1, OriPageReadCount: 1}},
		{RefDate: "2025-03-01", UserSource: 2, Counters: Counters{IntPageReadUser: 1, IntPageReadCount: 1, ShareUser: 1, ShareCount: 1}},
		{RefDate: "2025-03-01", UserSource: 4, Counters: Counters{ShareUser: 1, ShareCount: 1}},
		{RefDate: "2025-03-02", UserSource: 99999999, Counters: Counters{IntPageReadUser: 1, IntPageReadCount: 1, AddToFavUser: 1, AddToFavCount: 1}},
		{RefDate: "2025-03-02", UserSource: 1, Counters: Counters{IntPageReadUser: 1, IntPageReadCount: 1, AddToFavUser: 1, AddToFavCount: 1}},
	}
	if diff := cmp.Diff(wantReads, reads); diff != "" {
		t.Errorf("getuserread (-want +got):\n%s", diff)
	}
	hourly := cubeRows[userReadRow](t, e, "getuserreadhour", "2025-03-02", "2025-03-02")
	if len(hourly) != 2 || hourly[0].RefHour == nil || *hourly[0].RefHour != 1500 || hourly[0].UserSource != 99999999 {
		t.Errorf("getuserreadhour = %+v, want hour 1500: the total and source 1", hourly)
	}

	shares := cubeRows[userShareRow](t, e, "getusershare", "2025-03-01", "2025-03-02")
	wantShares := []userShareRow{{RefDate: "2025-03-01", ShareScene: 1, ShareCount: 1, ShareUser: 1}, {RefDate: "2025-03-01", ShareScene: 2, ShareCount: 1, ShareUser: 1}}
	if diff := cmp.Diff(wantShares, shares); diff != "" {
		t.Errorf("getusershare (-want +got):\n%s", diff)
	}
	h10 := 1000
	shareHours := cubeRows[userShareRow](t, e, "getusersharehour", "2025-03-01", "2025-03-01")
	wantShareHours := []userShareRow{{"2025-03-01", &h10, 1, 1, 1}, {"2025-03-01", &h10, 2, 1, 1}}
	if diff := cmp.Diff(wantShareHours, shareHours); diff != "" {
		t.Errorf("getusersharehour (-want +got):\n%s", diff)
	}
}

func TestRecordArticleEventChecks(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tests := []struct {
		name string
		ev   ArticleEvent
		err  error
	}{
		{"no msgid", ArticleEvent{Action: ArticleRead}, ErrBadArticle},
		{"unknown action", ArticleEvent{MsgID: "1_1", Action: "like"}, ErrBadArticle},
		{"bad source", ArticleEvent{MsgID: "1_1", Action: ArticleRead, UserSource: 8}, ErrBadArticle},
		{"bad scene", ArticleEvent{MsgID: "1_1", Action: ArticleShare, ShareScene: 3}, ErrBadArticle},
		{"scene of a read", ArticleEvent{MsgID: "1_1", Action: ArticleRead, ShareScene: 2}, ErrBadArticle},
		{"ok", ArticleEvent{MsgID: "1_1", Action: ArticleShare}, nil},
	}
	for _, tc := range tests {
		got, err := e.RecordArticleEvent(testAppID, tc.ev)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: RecordArticleEvent = %v, want %v", tc.name, err, tc.err)
		}
		if err == nil && (got.User != e.Apps()[0].Users[0].OpenID || got.ShareScene != ShareSceneFriend) {
			t.Errorf("%s: defaults = %+v, want the first user and share scene 1", tc.name, got)
		}
	}
	if _, err := e.RecordArticleEvent("wxnope", ArticleEvent{MsgID: "1_1", Action: ArticleRead}); !errors.Is(err, ErrUnknownApp) {
		t.Errorf("unknown app = %v", err)
	}
	if err := e.RecordArticleSent(testAppID, SentArticle{Title: "x"}); !errors.Is(err, ErrBadArticle) {
		t.Errorf("RecordArticleSent without msgid = %v", err)
	}

	// The control API.
	var ev ArticleEvent
	if code := control(t, e, "POST", "/_emulator/apps/"+testAppID+"/articles/events", `{"msgid":"2_1","action":"read","user_source":2}`, &ev); code != 200 || ev.User == "" {
		t.Errorf("POST articles/events = %d %+v", code, ev)
	}
	var sent SentArticle
	if code := control(t, e, "POST", "/_emulator/apps/"+testAppID+"/articles", `{"msgid":"2_1","title":"T","target_user":3}`, &sent); code != 200 || !sent.SentAt.Equal(t0) {
		t.Errorf("POST articles = %d %+v, want sent now", code, sent)
	}
	for name, tc := range map[string]struct {
		path, body string
		status     int
	}{
		"bad action":    {"/_emulator/apps/" + testAppID + "/articles/events", `{"msgid":"2_1","action":"x"}`, 400},
		"unknown field": {"/_emulator/apps/" + testAppID + "/articles", `{"msgid":"2_1","nope":1}`, 400},
		"unknown app":   {"/_emulator/apps/wxnope/articles", `{"msgid":"2_1"}`, 404},
	} {
		if code := control(t, e, "POST", tc.path, tc.body, nil); code != tc.status {
			t.Errorf("%s: status %d, want %d", name, code, tc.status)
		}
	}
}
