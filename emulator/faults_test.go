package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// control calls the control API and decodes the JSON answer into out.
func control(t *testing.T, e *Emulator, method, path, body string, out any) int {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, w.Body.String())
		}
	}
	return w.Code
}

func TestFaults(t *testing.T) {
	t.Parallel()
	t.Run("errcode for count calls", func(t *testing.T) {
		e := newTest(t, nil)
		if err := e.InjectFault(Fault{Path: "/cgi-bin/token", Count: 2, ErrCode: -1}); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			r := call(t, e, "GET", tokenURL(testAppID, testSecret), "")
			wantErr(t, "faulty call", r, -1)
			if !strings.HasPrefix(r.ErrMsg, "system error rid: ") || r.Status != 200 {
				t.Errorf("call %d: status %d errmsg %q, want 200 \"system error rid: ...\"", i, r.Status, r.ErrMsg)
			}
		}
		if r := call(t, e, "GET", tokenURL(testAppID, testSecret), ""); r.ErrCode != 0 {
			t.Fatalf("third call: errcode %d, want 0", r.ErrCode)
		}
		if got := e.Faults(); len(got) != 0 {
			t.Errorf("faults left = %v, want none", got)
		}
		if got, want := e.Stats().Count("/cgi-bin/token", testAppID), (CallCount{Calls: 3, Errors: 2}); got != want {
			t.Errorf("stats = %+v, want %+v", got, want)
		}
	})
	t.Run("appid filter via access_token and JSON body", func(t *testing.T) {
		e := newTest(t, nil)
		tok := fetchToken(t, e)
		for _, f := range []Fault{
			{Path: "/cgi-bin/ticket/getticket", AppID: otherAppID, ErrCode: 45011},
			{Path: "/cgi-bin/ticket/getticket", AppID: testAppID, ErrCode: 45011, ErrMsg: "slow down"},
			{Path: "/cgi-bin/stable_token", AppID: testAppID, ErrCode: 45009},
		} {
			if err := e.InjectFault(f); err != nil {
				t.Fatal(err)
			}
		}
		r := call(t, e, "GET", "/cgi-bin/ticket/getticket?type=jsapi&access_token="+url.QueryEscape(tok), "")
		wantErr(t, "getticket", r, 45011)
		if !strings.HasPrefix(r.ErrMsg, "slow down rid: ") {
			t.Errorf("errmsg %q, want the injected text", r.ErrMsg)
		}
		wantErr(t, "stable_token", call(t, e, "POST", "/cgi-bin/stable_token", stableBody(testAppID, testSecret, false)), 45009)
		// The stable_token handler still reads the body after the peek.
		fetchStable(t, e, false)
		if got := len(e.Faults()); got != 1 {
			t.Errorf("faults left = %d, want 1 (the other app's)", got)
		}
	})
	t.Run("HTTP status without errcode", func(t *testing.T) {
		e := newTest(t, nil)
		if err := e.InjectFault(Fault{Path: "/cgi-bin/token", Status: 503}); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), "GET", tokenURL(testAppID, testSecret), nil))
		if w.Code != 503 || !strings.Contains(w.Body.String(), "Service Unavailable") {
			t.Errorf("status %d body %q, want 503 Service Unavailable", w.Code, w.Body.String())
		}
		if got := e.Stats().Count("/cgi-bin/token", testAppID).Errors; got != 1 {
			t.Errorf("errors = %d, want 1", got)
		}
	})
	t.Run("delay only then normal answer", func(t *testing.T) {
		e := newTest(t, nil)
		if err := e.InjectFault(Fault{Path: "/cgi-bin/token", Delay: Duration(time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
		if r := call(t, e, "GET", tokenURL(testAppID, testSecret), ""); r.ErrCode != 0 || r.AccessToken == "" {
			t.Errorf("delayed call: errcode %d, want a token", r.ErrCode)
		}
	})
	t.Run("unlimited until cleared", func(t *testing.T) {
		e := newTest(t, nil)
		if err := e.InjectFault(Fault{Path: "/cgi-bin/token", Count: -1, ErrCode: -1}); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			wantErr(t, "unlimited fault", call(t, e, "GET", tokenURL(testAppID, testSecret), ""), -1)
		}
		e.ClearFaults()
		if r := call(t, e, "GET", tokenURL(testAppID, testSecret), ""); r.ErrCode != 0 {
			t.Errorf("after clear: errcode %d", r.ErrCode)
		}
	})
	t.Run("invalid faults", func(t *testing.T) {
		e := newTest(t, nil)
		for _, f := range []Fault{
			{Path: "cgi-bin/token", ErrCode: -1},
			{Path: "/cgi-bin/token"},
			{Path: "/cgi-bin/token", Status: 99},
			{Path: "/cgi-bin/token", ErrCode: -1, Count: -2},
			{Path: "/cgi-bin/token", FailDelivery: true},
			{Path: "/cgi-bin/message/template/send", FailDelivery: true, ErrCode: -1},
			{Path: "/cgi-bin/message/template/send", FailDelivery: true, Delay: Duration(time.Millisecond)},
		} {
			if err := e.InjectFault(f); err == nil {
				t.Errorf("InjectFault(%+v) = nil, want an error", f)
			}
		}
	})
	t.Run("control API", func(t *testing.T) {
		e := newTest(t, nil)
		var got struct{ Faults []Fault }
		if code := control(t, e, "POST", "/_emulator/faults", `{"path":"/cgi-bin/token","appid":"`+testAppID+`","count":3,"errcode":-1,"status":500,"delay":"1ms"}`, &got); code != 200 {
			t.Fatalf("POST faults: status %d", code)
		}
		want := []Fault{{Path: "/cgi-bin/token", AppID: testAppID, Count: 3, ErrCode: -1, Status: 500, Delay: Duration(time.Millisecond)}}
		if diff := cmp.Diff(want, got.Faults); diff != "" {
			t.Errorf("faults (-want +got):\n%s", diff)
		}
		r := call(t, e, "GET", tokenURL(testAppID, testSecret), "")
		if r.Status != 500 || r.ErrCode != -1 {
			t.Errorf("faulty call: status %d errcode %d, want 500, -1", r.Status, r.ErrCode)
		}
		var bad struct{ Error string }
		if code := control(t, e, "POST", "/_emulator/faults", `{"path":"/x","bogus":1}`, &bad); code != 400 || bad.Error == "" {
			t.Errorf("unknown field: status %d error %q, want 400 and a message", code, bad.Error)
		}
		control(t, e, "DELETE", "/_emulator/faults", "", nil)
		control(t, e, "GET", "/_emulator/faults", "", &got)
		if len(got.Faults) != 0 {
			t.Errorf("faults after DELETE = %v", got.Faults)
		}
	})
}

func TestStatsAndUnknownPath(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	fetchToken(t, e)
	call(t, e, "GET", tokenURL(testAppID, "bad"), "")
	fetchStable(t, e, false)
	fetchStable(t, e, false) // same token: not a fetch
	r := call(t, e, "GET", "/cgi-bin/nonexistent?access_token=x", "")
	if r.Status != http.StatusNotFound || r.ErrCode != 48001 {
		t.Errorf("unknown path: status %d errcode %d, want 404, 48001", r.Status, r.ErrCode)
	}
	var st Stats
	if code := control(t, e, "GET", "/_emulator/stats", "", &st); code != 200 {
		t.Fatalf("GET stats: %d", code)
	}
	want := Stats{
		Calls: map[string]map[string]CallCount{
			"/cgi-bin/token":        {testAppID: {Calls: 2, Errors: 1}},
			"/cgi-bin/stable_token": {testAppID: {Calls: 2}},
			"/cgi-bin/nonexistent":  {"": {Calls: 1, Errors: 1}},
		},
		TokenFetches: map[string]TokenFetches{testAppID: {Total: 2, CGIBinToken: 1, StableToken: 1}},
		Pushes:       map[string]PushCounts{},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	control(t, e, "DELETE", "/_emulator/stats", "", nil)
	if got := e.Stats(); len(got.Calls) != 0 || len(got.TokenFetches) != 0 {
		t.Errorf("stats after reset = %+v", got)
	}
}

func TestClockControl(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	var st struct {
		Now    time.Time
		Unix   int64
		Offset Duration
	}
	if code := control(t, e, "POST", "/_emulator/clock", `{"advance":"2h"}`, &st); code != 200 {
		t.Fatalf("POST clock: %d", code)
	}
	if st.Unix != t0.Add(2*time.Hour).Unix() || st.Offset != Duration(2*time.Hour) {
		t.Errorf("clock = %d offset %s, want %d, 2h", st.Unix, time.Duration(st.Offset), t0.Add(2*time.Hour).Unix())
	}
	if code := useToken(t, e, tok); code != 42001 {
		t.Errorf("token after advancing 2h: errcode %d, want 42001", code)
	}
	if code := control(t, e, "POST", "/_emulator/clock", `{"advance":"-1h"}`, nil); code != 400 {
		t.Errorf("negative advance: status %d, want 400", code)
	}
}
