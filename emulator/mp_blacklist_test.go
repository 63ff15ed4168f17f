package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// openIDList returns {"openid_list":[ids...]}.
func openIDList(ids ...string) string {
	b, _ := json.Marshal(map[string][]string{"openid_list": ids})
	return string(b)
}

// blacklistPage is the answer of getblacklist.
type blacklistPage struct {
	Total int `json:"total"`
	Count int `json:"count"`
	Data  struct {
		OpenID []string `json:"openid"`
	} `json:"data"`
	NextOpenID string `json:"next_openid"`
}

// getBlacklist calls getblacklist with body and decodes the page.
func getBlacklist(t *testing.T, e *Emulator, tok, body string) (int, blacklistPage) {
	t.Helper()
	code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/getblacklist", body)
	b, _ := json.Marshal(m)
	var p blacklistPage
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return code, p
}

func TestBlacklistBatchLimits(t *testing.T) {
	t.Parallel()
	e := newTest(t, func(c *Config) {
		c.Apps[0].Users = make([]UserConfig, maxBlacklistBatch+1)
	})
	tok := fetchToken(t, e)
	var all []string
	for _, u := range e.Apps()[0].Users {
		all = append(all, u.OpenID)
	}
	stranger := "oStrangerNotAUserOfTheApp00"
	tests := []struct {
		name string
		body string
		code int
		want []string // the blacklist afterwards
	}{
		{"no openid", openIDList(), 40032, nil},
		{"no body field", `{}`, 40032, nil},
		{"21 openids", openIDList(all...), 40032, nil},
		{"a stranger among users: nothing done", openIDList(all[0], stranger), 40003, nil},
		{"20 openids", openIDList(all[:20]...), 0, all[:20]},
	}
	for _, tc := range tests {
		code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/batchblacklist", tc.body)
		if code != tc.code {
			t.Errorf("%s: batchblacklist = %d (%v), want %d", tc.name, code, m["errmsg"], tc.code)
		}
		got, _ := e.Blacklist(testAppID)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: blacklist (-want +got):\n%s", tc.name, diff)
		}
	}
	for _, tc := range []struct {
		name string
		body string
		code int
	}{
		{"unblacklist 21", openIDList(all...), 40032},
		{"unblacklist a stranger", openIDList(stranger), 40003},
		{"unblacklist none", openIDList(), 40032},
	} {
		if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/batchunblacklist", tc.body); code != tc.code {
			t.Errorf("%s = %d (%v), want %d", tc.name, code, m["errmsg"], tc.code)
		}
	}
	if code, _ := mpCallJSON(t, e, tok, "GET", "/cgi-bin/tags/members/batchblacklist", ""); code != 43002 {
		t.Errorf("GET batchblacklist = %d, want 43002", code)
	}
	if code, _ := mpCallJSON(t, e, "", "POST", "/cgi-bin/tags/members/batchblacklist", openIDList(all[0])); code != 41001 {
		t.Errorf("batchblacklist without a token = %d, want 41001", code)
	}
}

func TestBlacklistListAndPages(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	u := []string{}
	for _, x := range e.Apps()[0].Users {
		u = append(u, x.OpenID)
	}
	if code, p := getBlacklist(t, e, tok, ""); code != 0 || p.Total != 0 || p.Count != 0 || p.NextOpenID != "" {
		t.Fatalf("empty blacklist = %d %+v", code, p)
	}
	// Blacklisted in the order 2, 0, 1; blacklisting 0 again changes nothing.
	for _, body := range []string{openIDList(u[2]), openIDList(u[0], u[1]), openIDList(u[0])} {
		if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/batchblacklist", body); code != 0 {
			t.Fatalf("batchblacklist %s = %d (%v)", body, code, m["errmsg"])
		}
	}
	code, p := getBlacklist(t, e, tok, `{"begin_openid":""}`)
	if code != 0 || p.Total != 3 || p.Count != 3 || p.NextOpenID != u[1] {
		t.Errorf("getblacklist = %d %+v, want 3 ending at %s", code, p, u[1])
	}
	if diff := cmp.Diff([]string{u[2], u[0], u[1]}, p.Data.OpenID); diff != "" {
		t.Errorf("getblacklist order (-want +got):\n%s", diff)
	}

	e.SetUserPageSize(2)
	var walked []string
	next := ""
	for range 4 {
		code, p := getBlacklist(t, e, tok, fmt.Sprintf(`{"begin_openid":%q}`, next))
		if code != 0 || p.Total != 3 {
			t.Fatalf("getblacklist(%q) = %d %+v", next, code, p)
		}
		walked = append(walked, p.Data.OpenID...)
		if p.Count == 0 {
			if p.NextOpenID != "" {
				t.Errorf("empty page next_openid = %q, want \"\"", p.NextOpenID)
			}
			break
		}
		next = p.NextOpenID
	}
	if diff := cmp.Diff([]string{u[2], u[0], u[1]}, walked); diff != "" {
		t.Errorf("paged blacklist (-want +got):\n%s", diff)
	}
	if code, _ := getBlacklist(t, e, tok, `{"begin_openid":"oNotOnTheList"}`); code != 40003 {
		t.Errorf("getblacklist(unknown begin_openid) = %d, want 40003", code)
	}
	if code, _ := getBlacklist(t, e, tok, `not json`); code != 47001 {
		t.Errorf("getblacklist(bad body) = %d, want 47001", code)
	}

	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/batchunblacklist", openIDList(u[0], u[2])); code != 0 {
		t.Fatalf("batchunblacklist = %d", code)
	}
	e.SetUserPageSize(0)
	if _, p := getBlacklist(t, e, tok, `{}`); p.Total != 1 || !cmp.Equal(p.Data.OpenID, []string{u[1]}) {
		t.Errorf("after unblacklist = %+v, want only %s", p, u[1])
	}
	if info := e.Apps()[0]; info.Users[0].Blacklisted || !info.Users[1].Blacklisted {
		t.Errorf("AppInfo users blacklisted = %v %v, want false true", info.Users[0].Blacklisted, info.Users[1].Blacklisted)
	}
}

// TestBlacklistedUserPushesWithheld: the account receives nothing a
// blacklisted user sends or does but follows and unfollows; the push is
// reported blocked, logged as such, and delivered again once the user is
// taken off the blacklist.
func TestBlacklistedUserPushesWithheld(t *testing.T) {
	t.Parallel()
	e, fs := pushSetup(t, ModePlain, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
		_, _ = io.WriteString(w, "success")
	})
	tok := fetchToken(t, e)
	users := e.Apps()[0].Users
	bad, good := users[0].OpenID, users[1].OpenID
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/batchblacklist", openIDList(bad)); code != 0 {
		t.Fatalf("batchblacklist = %d", code)
	}
	tests := []struct {
		name    string
		req     PushRequest
		blocked bool
	}{
		{"text", PushRequest{User: bad, Content: "hello"}, true},
		{"image", PushRequest{User: bad, Type: MsgTypeImage}, true},
		{"menu click", PushRequest{User: bad, Event: EventTypeClick, EventKey: "K"}, true},
		{"another user's text", PushRequest{User: good, Content: "hi"}, false},
		{"unfollow", PushRequest{User: bad, Event: EventTypeUnsubscribe}, false},
		{"follow", PushRequest{User: bad, Event: EventTypeSubscribe}, false},
	}
	for _, tc := range tests {
		before := len(fs.deliveries())
		res, err := e.Push(t.Context(), testAppID, tc.req)
		if err != nil {
			t.Fatalf("%s: Push = %v", tc.name, err)
		}
		delivered := len(fs.deliveries()) - before
		if res.Blocked != tc.blocked || res.OK() == tc.blocked {
			t.Errorf("%s: Blocked %v OK %v, want blocked %v", tc.name, res.Blocked, res.OK(), tc.blocked)
		}
		if want := map[bool]int{true: 0, false: 1}[tc.blocked]; delivered != want || len(res.Attempts) != want {
			t.Errorf("%s: %d deliveries, %d attempts, want %d", tc.name, delivered, len(res.Attempts), want)
		}
		if tc.blocked && (res.UserSees != "" || res.Error != "") {
			t.Errorf("%s: blocked push shows %q / %q, want nothing", tc.name, res.UserSees, res.Error)
		}
	}
	log, _ := e.Conversation(testAppID, bad)
	var blocked []string
	for _, en := range log {
		if en.Blocked {
			blocked = append(blocked, string(en.Type)+"/"+string(en.Event))
		}
	}
	if diff := cmp.Diff([]string{"text/", "image/", "event/CLICK"}, blocked); diff != "" {
		t.Errorf("blocked entries in the log (-want +got):\n%s", diff)
	}

	// The control API reports it; the user list shows the blacklist.
	var raw map[string]any
	if code := control(t, e, "POST", "/_emulator/apps/"+testAppID+"/push", fmt.Sprintf(`{"user":%q,"content":"x"}`, bad), &raw); code != 200 || raw["blocked"] != true {
		t.Errorf("control push of a blacklisted user = %d %v, want 200 with blocked true", code, raw)
	}
	var info AppInfo
	control(t, e, "GET", "/_emulator/apps/"+testAppID, "", &info)
	if !info.Users[0].Blacklisted || info.Users[1].Blacklisted {
		t.Errorf("GET app: blacklisted = %v, %v; want true, false", info.Users[0].Blacklisted, info.Users[1].Blacklisted)
	}

	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/batchunblacklist", openIDList(bad)); code != 0 {
		t.Fatalf("batchunblacklist = %d", code)
	}
	if res, err := e.Push(t.Context(), testAppID, PushRequest{User: bad, Content: "back"}); err != nil || res.Blocked || !res.OK() {
		t.Errorf("push after unblacklist = %+v, %v; want delivered", res, err)
	}
	if last := fs.deliveries()[len(fs.deliveries())-1]; !strings.Contains(last.Body, "back") {
		t.Errorf("last delivery = %s, want the message after unblacklist", last.Body)
	}
}
