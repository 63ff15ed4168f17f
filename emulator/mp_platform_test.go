package emulator

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestQuotaGetCountsAndClears(t *testing.T) {
	t.Parallel()
	e := newTest(t, func(c *Config) { c.Limits.Daily = map[string]int{"/cgi-bin/menu/get": 3} })
	tok := fetchToken(t, e)
	quota := func(path string) map[string]any {
		t.Helper()
		code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/quota/get", fmt.Sprintf(`{"cgi_path":%q}`, path))
		if code != 0 {
			t.Fatalf("quota/get(%s) = %d %v", path, code, m["errmsg"])
		}
		return m["quota"].(map[string]any)
	}
	for range 3 {
		mpCallJSON(t, e, tok, "GET", "/cgi-bin/menu/get", "")
	}
	if code, _ := mpCallJSON(t, e, tok, "GET", "/cgi-bin/menu/get", ""); code != 45009 {
		t.Fatalf("4th menu/get = %d, want 45009", code)
	}
	q := quota("/cgi-bin/menu/get")
	if q["daily_limit"] != 3.0 || q["used"] != 3.0 || q["remain"] != 0.0 {
		t.Errorf("quota of menu/get = %v, want limit 3 used 3 remain 0", q)
	}
	if q := quota("/cgi-bin/token"); q["daily_limit"] != 2000.0 || q["used"] != 1.0 || q["remain"] != 1999.0 {
		t.Errorf("quota of token = %v, want 2000/1/1999", q)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/quota/get", `{"cgi_path":"/cgi-bin/nothing"}`); code != 76021 {
		t.Errorf("quota/get(unknown path) = %d, want 76021", code)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/quota/get", ``); code != 44002 {
		t.Errorf("quota/get(no body) = %d, want 44002", code)
	}

	// A new day resets the counters.
	advance(t, e, 24*time.Hour)
	tok = fetchToken(t, e)
	if q := quota("/cgi-bin/menu/get"); q["used"] != 0.0 {
		t.Errorf("next day: used = %v, want 0", q["used"])
	}
	mpCallJSON(t, e, tok, "GET", "/cgi-bin/menu/get", "")

	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/clear_quota", `{"appid":"`+otherAppID+`"}`); code != 40013 {
		t.Errorf("clear_quota(other appid) = %d, want 40013", code)
	}
	if q := quota("/cgi-bin/menu/get"); q["used"] != 1.0 {
		t.Errorf("failed clear_quota changed the counters: used = %v", q["used"])
	}
	for i := range maxClearQuota {
		if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/clear_quota", `{"appid":"`+testAppID+`"}`); code != 0 {
			t.Fatalf("clear_quota #%d = %d %v", i+1, code, m["errmsg"])
		}
	}
	if q := quota("/cgi-bin/menu/get"); q["used"] != 0.0 {
		t.Errorf("after clear_quota: used = %v, want 0", q["used"])
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/clear_quota", `{"appid":"`+testAppID+`"}`); code != 48006 {
		t.Errorf("11th clear_quota in a month = %d, want 48006", code)
	}
	form := url.Values{"appid": {testAppID}, "appsecret": {testSecret}}.Encode()
	r := callForm(t, e, "/cgi-bin/clear_quota/v2", form)
	wantErr(t, "clear_quota/v2 (11th)", r, 48006)
	advance(t, e, 31*24*time.Hour) // next month
	wantErr(t, "clear_quota/v2 (wrong secret)", callForm(t, e, "/cgi-bin/clear_quota/v2",
		url.Values{"appid": {testAppID}, "appsecret": {"x"}}.Encode()), 40125)
	if r := callForm(t, e, "/cgi-bin/clear_quota/v2", form); r.ErrCode != 0 {
		t.Errorf("clear_quota/v2 next month = %d %q", r.ErrCode, r.ErrMsg)
	}
}

// callForm POSTs an urlencoded form.
func callForm(t *testing.T, e *Emulator, target, form string) apiReply {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), "POST", target, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	var r apiReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("POST %s: answer is not JSON: %q", target, w.Body.String())
	}
	return r
}

func TestRIDGet(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	body := `{"touser":"nobody","msgtype":"text","text":{"content":"hi"}}`
	code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/custom/send", body)
	if code != 40003 {
		t.Fatalf("custom/send(nobody) = %d, want 40003", code)
	}
	msg := m["errmsg"].(string)
	rid := msg[strings.LastIndex(msg, "rid: ")+5:]

	code, m = mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/rid/get", `{"rid":"`+rid+`"}`)
	if code != 0 {
		t.Fatalf("rid/get = %d %v", code, m["errmsg"])
	}
	req := m["request"].(map[string]any)
	if req["request_body"] != body || req["invoke_time"] != float64(t0.Unix()) || req["client_ip"] != "192.0.2.1" {
		t.Errorf("rid/get request = %v", req)
	}
	if resp := req["response_body"].(string); !strings.Contains(resp, `"errcode":40003`) || !strings.Contains(resp, rid) {
		t.Errorf("response_body = %q", resp)
	}
	if u := req["request_url"].(string); u != "access_token=***" {
		t.Errorf("request_url = %q: the access_token must be masked", u)
	}

	// A failed /cgi-bin/token call keeps no secret.
	r := call(t, e, "GET", tokenURL(testAppID, "wrong"), "")
	wantErr(t, "token(wrong secret)", r, 40125)
	rid2 := r.ErrMsg[strings.LastIndex(r.ErrMsg, "rid: ")+5:]
	_, m = mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/rid/get", `{"rid":"`+rid2+`"}`)
	if u := m["request"].(map[string]any)["request_url"].(string); strings.Contains(u, "wrong") {
		t.Errorf("request_url %q carries the secret", u)
	}

	other := call(t, e, "GET", tokenURL(otherAppID, "22222222222222222222222222222222"), "").AccessToken
	if code, _ := mpCallJSON(t, e, other, "POST", "/cgi-bin/openapi/rid/get", `{"rid":"`+rid+`"}`); code != 76003 {
		t.Errorf("rid/get of another app's rid = %d, want 76003", code)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/rid/get", `{"rid":"nonsense"}`); code != 76002 {
		t.Errorf("rid/get(nonsense) = %d, want 76002", code)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/rid/get", `{"rid":"00000000-00000000-00000000"}`); code != 76001 {
		t.Errorf("rid/get(unknown) = %d, want 76001", code)
	}
	advance(t, e, 8*24*time.Hour)
	tok = fetchToken(t, e)
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/rid/get", `{"rid":"`+rid+`"}`); code != 76004 {
		t.Errorf("rid/get after 8 days = %d, want 76004", code)
	}
}

func TestCallbackIP(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	for _, p := range []string{"/cgi-bin/getcallbackip", "/cgi-bin/get_api_domain_ip"} {
		code, m := mpCallJSON(t, e, tok, "GET", p, "")
		list, _ := m["ip_list"].([]any)
		if code != 0 || len(list) == 0 {
			t.Errorf("%s = %d %v", p, code, m)
		}
		if code, _ := mpCallJSON(t, e, tok, "POST", p, "{}"); code != 43001 {
			t.Errorf("POST %s = %d, want 43001", p, code)
		}
	}
	code, m := mpCallJSON(t, e, tok, "GET", "/cgi-bin/getcallbackip", "")
	if code != 0 || m["ip_list"].([]any)[0] != "127.0.0.1" {
		t.Errorf("getcallbackip = %v, want 127.0.0.1 first (the emulator pushes from this host)", m)
	}
}

// TestQuotaDraftAndPublish: the draft and publish routes count against
// the daily quotas of the API_Call_Limits page (freepublish/delete 10 a
// day, 45009 beyond; draft/get 500), and quota/get reports them.
func TestQuotaDraftAndPublish(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	for i := range 10 {
		if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/freepublish/delete", `{"article_id":"nope","index":0}`); code == 45009 {
			t.Fatalf("freepublish/delete #%d = 45009, want the quota of 10 not yet used", i+1)
		}
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/freepublish/delete", `{"article_id":"nope","index":0}`); code != 45009 {
		t.Errorf("11th freepublish/delete of the day = %d, want 45009", code)
	}
	for path, limit := range map[string]float64{"/cgi-bin/draft/get": 500, "/cgi-bin/draft/add": 1000, "/cgi-bin/freepublish/submit": 100} {
		code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/openapi/quota/get", fmt.Sprintf(`{"cgi_path":%q}`, path))
		if code != 0 {
			t.Fatalf("quota/get(%s) = %d %v", path, code, m["errmsg"])
		}
		if q := m["quota"].(map[string]any); q["daily_limit"] != limit || q["used"] != 0.0 {
			t.Errorf("quota of %s = %v, want daily_limit %v, used 0", path, q, limit)
		}
	}
}
