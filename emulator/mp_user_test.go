package emulator

import (
	"encoding/json"
	"fmt"
	"testing"
)

// batchGetBody returns the user/info/batchget body for ids in lang.
func batchGetBody(lang string, ids ...string) string {
	type item struct {
		OpenID string `json:"openid"`
		Lang   string `json:"lang,omitempty"`
	}
	body := struct {
		UserList []item `json:"user_list"`
	}{UserList: []item{}}
	for _, id := range ids {
		body.UserList = append(body.UserList, item{id, lang})
	}
	b, _ := json.Marshal(body)
	return string(b)
}

func TestUserBatchGetLimits(t *testing.T) {
	t.Parallel()
	no := false
	e := newTest(t, func(c *Config) {
		c.Apps[0].Users = make([]UserConfig, maxBatchGet+1)
		c.Apps[0].Users[1].Subscribed = &no
	})
	tok := fetchToken(t, e)
	var ids []string
	for _, u := range e.Apps()[0].Users {
		ids = append(ids, u.OpenID)
	}
	tests := []struct {
		name string
		body string
		code int
		n    int // users listed
	}{
		{"100 users", batchGetBody("", ids[:100]...), 0, 100},
		{"101 users", batchGetBody("", ids...), 40032, 0},
		{"no user", batchGetBody(""), 40032, 0},
		{"a stranger", batchGetBody("", ids[0], "oStrangerNotAUserOfTheApp00"), 40003, 0},
		{"bad lang", batchGetBody("fr", ids[0]), 40097, 0},
		{"english", batchGetBody("en", ids[0], ids[1]), 0, 2},
		{"not JSON", "user_list", 47001, 0},
	}
	for _, tc := range tests {
		code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/user/info/batchget", tc.body)
		if code != tc.code {
			t.Errorf("%s: batchget = %d (%v), want %d", tc.name, code, m["errmsg"], tc.code)
			continue
		}
		list, _ := m["user_info_list"].([]any)
		if len(list) != tc.n {
			t.Errorf("%s: %d users listed, want %d", tc.name, len(list), tc.n)
		}
		if tc.name == "english" {
			// A user who does not follow is listed with subscribe 0 and
			// nothing else but the openid.
			gone := list[1].(map[string]any)
			if gone["subscribe"] != 0.0 || gone["openid"] != ids[1] || len(gone) != 2 {
				t.Errorf("non-follower = %v, want only subscribe 0 and the openid", gone)
			}
		}
	}
}

func TestUserTagMembersPages(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	users := e.Apps()[0].Users
	body := fmt.Sprintf(`{"openid_list":[%q,%q],"tagid":2}`, users[2].OpenID, users[0].OpenID)
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/batchtagging", body); code != 0 {
		t.Fatalf("batchtagging = %d", code)
	}
	e.SetUserPageSize(1)
	var got []string
	next := ""
	for range 4 {
		code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/user/tag/get", fmt.Sprintf(`{"tagid":2,"next_openid":%q}`, next))
		if code != 0 {
			t.Fatalf("user/tag/get = %d", code)
		}
		if m["count"] == 0.0 {
			break
		}
		for _, id := range m["data"].(map[string]any)["openid"].([]any) {
			got = append(got, id.(string))
		}
		next = m["next_openid"].(string)
	}
	// Listed in the app's user order.
	if len(got) != 2 || got[0] != users[0].OpenID || got[1] != users[2].OpenID {
		t.Errorf("user/tag/get pages = %v, want users 0 and 2", got)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/user/tag/get", `{"tagid":999}`); code != 45159 {
		t.Errorf("user/tag/get(unknown tag) = %d, want 45159", code)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/user/tag/get", `{"tagid":2,"next_openid":"oNope"}`); code != 40003 {
		t.Errorf("user/tag/get(unknown next_openid) = %d, want 40003", code)
	}
}
