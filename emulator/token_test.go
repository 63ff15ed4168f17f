package emulator

import (
	"net/url"
	"regexp"
	"testing"
	"time"
)

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tests := []struct {
		name   string
		target string
		code   int
	}{
		{"missing grant_type", "/cgi-bin/token?appid=" + testAppID + "&secret=" + testSecret, 40002},
		{"bad grant_type", "/cgi-bin/token?grant_type=password&appid=" + testAppID + "&secret=" + testSecret, 40002},
		{"missing appid", "/cgi-bin/token?grant_type=client_credential&secret=" + testSecret, 41002},
		{"missing secret", "/cgi-bin/token?grant_type=client_credential&appid=" + testAppID, 41004},
		{"unknown appid", tokenURL("wx9999999999999999", testSecret), 40013},
		{"wrong secret", tokenURL(testAppID, "00000000000000000000000000000000"), 40125},
		{"secret of another app", tokenURL(testAppID, "22222222222222222222222222222222"), 40125},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, e, "GET", tt.target, "")
			wantErr(t, tt.name, r, tt.code)
			if r.AccessToken != "" {
				t.Errorf("error answer carries a token")
			}
		})
	}
	if got := e.Stats().TokenFetches[testAppID].Total; got != 0 {
		t.Errorf("token fetches after errors = %d, want 0", got)
	}
}

func TestTokenShapeAndLifetime(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	r := call(t, e, "GET", tokenURL(testAppID, testSecret), "")
	if r.ErrCode != 0 || r.ExpiresIn != 7200 {
		t.Fatalf("token: errcode %d, expires_in %d, want 0, 7200", r.ErrCode, r.ExpiresIn)
	}
	if n := len(r.AccessToken); n < 136 || n > 157 {
		t.Errorf("token length %d, want 136..157 like real tokens", n)
	}
	if !regexp.MustCompile(`^\d+_[A-Za-z0-9_-]+$`).MatchString(r.AccessToken) {
		t.Errorf("token %q does not look like a real one", r.AccessToken)
	}
	tok := r.AccessToken
	if code := useToken(t, e, tok); code != 0 {
		t.Fatalf("fresh token: errcode %d", code)
	}
	advance(t, e, 7199*time.Second)
	if code := useToken(t, e, tok); code != 0 {
		t.Fatalf("token at 7199 s: errcode %d, want 0", code)
	}
	advance(t, e, time.Second)
	if code := useToken(t, e, tok); code != 42001 {
		t.Fatalf("token at 7200 s: errcode %d, want 42001", code)
	}
}

func TestTokenOverlap(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	a := fetchToken(t, e)
	advance(t, e, time.Hour)
	b := fetchToken(t, e)
	if a == b {
		t.Fatal("second fetch returned the same token")
	}
	// Both valid for 5 minutes after the refresh.
	advance(t, e, 5*time.Minute-time.Second)
	if code := useToken(t, e, a); code != 0 {
		t.Fatalf("old token 4:59 after refresh: errcode %d, want 0", code)
	}
	advance(t, e, time.Second)
	if code := useToken(t, e, a); code != 40001 {
		t.Fatalf("old token 5:00 after refresh: errcode %d, want 40001", code)
	}
	if code := useToken(t, e, b); code != 0 {
		t.Fatalf("new token: errcode %d", code)
	}

	// Three quick fetches: only the last two overlap.
	c := fetchToken(t, e)
	d := fetchToken(t, e)
	for _, tc := range []struct {
		name string
		tok  string
		want int
	}{{"b (two fetches ago)", b, 40001}, {"c (previous)", c, 0}, {"d (latest)", d, 0}} {
		if code := useToken(t, e, tc.tok); code != tc.want {
			t.Errorf("%s: errcode %d, want %d", tc.name, code, tc.want)
		}
	}
}

func TestAccessTokenCheck(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	good := fetchToken(t, e)
	tests := []struct {
		name  string
		query string
		code  int
	}{
		{"missing", "type=jsapi", 41001},
		{"malformed", "type=jsapi&access_token=ACCESS_TOKEN", 40014},
		{"unknown", "type=jsapi&access_token=" + url.QueryEscape(newTokenValue()), 40001},
		{"good", "type=jsapi&access_token=" + url.QueryEscape(good), 0},
		{"bad type", "type=bogus&access_token=" + url.QueryEscape(good), 40097},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, e, "GET", "/cgi-bin/ticket/getticket?"+tt.query, "")
			if tt.code == 0 {
				if r.ErrCode != 0 || r.Ticket == "" {
					t.Fatalf("errcode %d %q, want a ticket", r.ErrCode, r.ErrMsg)
				}
				return
			}
			wantErr(t, tt.name, r, tt.code)
		})
	}
}

func TestTokenDailyQuota(t *testing.T) {
	t.Parallel()
	t.Run("default is 2000", func(t *testing.T) {
		e := newTest(t, nil)
		if got := e.Config().Limits.TokenDaily; got != 2000 {
			t.Fatalf("default TokenDaily = %d, want 2000", got)
		}
	})
	t.Run("limit then 45009 then reset at midnight China time", func(t *testing.T) {
		e := newTest(t, func(c *Config) { c.Limits.TokenDaily = 3 })
		for i := range 3 {
			if r := call(t, e, "GET", tokenURL(testAppID, testSecret), ""); r.ErrCode != 0 {
				t.Fatalf("fetch %d: errcode %d", i+1, r.ErrCode)
			}
		}
		r := call(t, e, "GET", tokenURL(testAppID, testSecret), "")
		wantErr(t, "fetch 4", r, 45009)
		if want := "reach max api daily quota limit"; len(r.ErrMsg) < len(want) || r.ErrMsg[:len(want)] != want {
			t.Errorf("errmsg %q, want it to start with %q", r.ErrMsg, want)
		}
		// Other apps have their own quota.
		if r := call(t, e, "GET", tokenURL(otherAppID, "22222222222222222222222222222222"), ""); r.ErrCode != 0 {
			t.Errorf("other app: errcode %d, want 0", r.ErrCode)
		}
		// t0 is 10:00 in China; at 23:59:59 still refused, at 00:00 allowed.
		advance(t, e, 14*time.Hour-time.Second)
		wantErr(t, "before midnight", call(t, e, "GET", tokenURL(testAppID, testSecret), ""), 45009)
		advance(t, e, time.Second)
		if r := call(t, e, "GET", tokenURL(testAppID, testSecret), ""); r.ErrCode != 0 {
			t.Errorf("after midnight: errcode %d, want 0", r.ErrCode)
		}
		st := e.Stats()
		if got, want := st.TokenFetches[testAppID], (TokenFetches{Total: 4, CGIBinToken: 4}); got != want {
			t.Errorf("token fetches = %+v, want %+v", got, want)
		}
		if got, want := st.Count("/cgi-bin/token", testAppID), (CallCount{Calls: 6, Errors: 2}); got != want {
			t.Errorf("calls = %+v, want %+v", got, want)
		}
	})
}

func TestIPWhitelist(t *testing.T) {
	t.Parallel()
	e := newTest(t, func(c *Config) { c.Apps[0].IPWhitelist = []string{"10.0.0.0/8", "192.168.1.7"} })
	r := call(t, e, "GET", tokenURL(testAppID, testSecret), "") // from 127.0.0.1
	wantErr(t, "not whitelisted", r, 40164)
	if want := regexp.MustCompile(`^invalid ip 127\.0\.0\.1 ipv6 ::ffff:127\.0\.0\.1, not in whitelist rid: `); !want.MatchString(r.ErrMsg) {
		t.Errorf("errmsg %q does not have the platform's shape", r.ErrMsg)
	}
	r = call(t, e, "POST", "/cgi-bin/stable_token", stableBody(testAppID, testSecret, false))
	wantErr(t, "stable_token not whitelisted", r, 40164)
	// Unknown appid is reported before the whitelist, a wrong secret after it.
	wantErr(t, "wrong secret", call(t, e, "GET", tokenURL(testAppID, "x"), ""), 40164)
}

func TestStableToken(t *testing.T) {
	t.Parallel()
	t.Run("same token until 5 minutes before expiry", func(t *testing.T) {
		e := newTest(t, nil)
		first := fetchStable(t, e, false)
		if first.ExpiresIn != 7200 {
			t.Errorf("expires_in = %d, want 7200", first.ExpiresIn)
		}
		advance(t, e, time.Hour)
		again := fetchStable(t, e, false)
		if again.AccessToken != first.AccessToken || again.ExpiresIn != 3600 {
			t.Errorf("after 1h: same=%v expires_in=%d, want same token, 3600", again.AccessToken == first.AccessToken, again.ExpiresIn)
		}
		advance(t, e, 55*time.Minute-time.Second) // 301 s left
		if r := fetchStable(t, e, false); r.AccessToken != first.AccessToken || r.ExpiresIn != 301 {
			t.Errorf("301 s left: same=%v expires_in=%d, want same token, 301", r.AccessToken == first.AccessToken, r.ExpiresIn)
		}
		advance(t, e, time.Second) // 300 s left: rotated
		r := fetchStable(t, e, false)
		if r.AccessToken == first.AccessToken || r.ExpiresIn != 7200 {
			t.Fatalf("300 s left: rotated=%v expires_in=%d, want a new token, 7200", r.AccessToken != first.AccessToken, r.ExpiresIn)
		}
		// The old one still works until it expires.
		if code := useToken(t, e, first.AccessToken); code != 0 {
			t.Errorf("old stable token before its expiry: errcode %d", code)
		}
		advance(t, e, 300*time.Second)
		if code := useToken(t, e, first.AccessToken); code != 42001 {
			t.Errorf("old stable token after expiry: errcode %d, want 42001", code)
		}
		if got, want := e.Stats().TokenFetches[testAppID], (TokenFetches{Total: 2, StableToken: 2}); got != want {
			t.Errorf("token fetches = %+v, want %+v", got, want)
		}
	})
	t.Run("force_refresh", func(t *testing.T) {
		e := newTest(t, func(c *Config) { c.Limits.StableForceDaily = 3 })
		old := fetchStable(t, e, false)
		forced := fetchStable(t, e, true)
		if forced.AccessToken == old.AccessToken {
			t.Fatal("force_refresh returned the same token")
		}
		if code := useToken(t, e, old.AccessToken); code != 40001 {
			t.Errorf("token replaced by force_refresh: errcode %d, want 40001", code)
		}
		// Within 30 s: unchanged, not counted.
		advance(t, e, 29*time.Second)
		if r := fetchStable(t, e, true); r.AccessToken != forced.AccessToken || r.ExpiresIn != 7200-29 {
			t.Errorf("force within 30 s: same=%v expires_in=%d, want unchanged, %d", r.AccessToken == forced.AccessToken, r.ExpiresIn, 7200-29)
		}
		advance(t, e, time.Second)
		second := fetchStable(t, e, true)
		if second.AccessToken == forced.AccessToken {
			t.Fatal("force after 30 s returned the same token")
		}
		advance(t, e, 30*time.Second)
		fetchStable(t, e, true) // third forced refresh of the day
		advance(t, e, 30*time.Second)
		r := call(t, e, "POST", "/cgi-bin/stable_token", stableBody(testAppID, testSecret, true))
		wantErr(t, "fourth forced refresh", r, 45009)
		// Non-forced calls keep working.
		fetchStable(t, e, false)
		if got := e.Stats().TokenFetches[testAppID].StableToken; got != 4 {
			t.Errorf("stable token fetches = %d, want 4 (1 + 3 forced)", got)
		}
	})
	t.Run("default force limits", func(t *testing.T) {
		e := newTest(t, nil)
		l := e.Config().Limits
		if l.StableForceDaily != 20 || l.StableForceInterval != 30*time.Second || l.StableTokenRotateEarly != 5*time.Minute {
			t.Errorf("defaults = %d, %s, %s; want 20, 30s, 5m", l.StableForceDaily, l.StableForceInterval, l.StableTokenRotateEarly)
		}
		for i := range 20 {
			fetchStable(t, e, true)
			advance(t, e, 31*time.Second)
			_ = i
		}
		wantErr(t, "21st forced refresh", call(t, e, "POST", "/cgi-bin/stable_token", stableBody(testAppID, testSecret, true)), 45009)
	})
	t.Run("isolated from cgi-bin/token", func(t *testing.T) {
		e := newTest(t, nil)
		st := fetchStable(t, e, false)
		cg := fetchToken(t, e)
		fetchToken(t, e)
		fetchToken(t, e) // cg is now two fetches old
		if code := useToken(t, e, st.AccessToken); code != 0 {
			t.Errorf("stable token after cgi-bin/token fetches: errcode %d, want 0", code)
		}
		if code := useToken(t, e, cg); code != 40001 {
			t.Errorf("superseded cgi token: errcode %d, want 40001", code)
		}
		latest := fetchToken(t, e)
		advance(t, e, 31*time.Second)
		fetchStable(t, e, true)
		if code := useToken(t, e, latest); code != 0 {
			t.Errorf("cgi token after forced stable refresh: errcode %d, want 0", code)
		}
	})
	t.Run("errors", func(t *testing.T) {
		e := newTest(t, nil)
		tests := []struct {
			name, method, body string
			code               int
		}{
			{"GET", "GET", "", 43002},
			{"empty body", "POST", "", 44002},
			{"not JSON", "POST", "grant_type=client_credential", 47001},
			{"bad grant_type", "POST", `{"grant_type":"x","appid":"` + testAppID + `","secret":"` + testSecret + `"}`, 40002},
			{"missing appid", "POST", `{"grant_type":"client_credential","secret":"` + testSecret + `"}`, 41002},
			{"missing secret", "POST", `{"grant_type":"client_credential","appid":"` + testAppID + `"}`, 41004},
			{"unknown appid", "POST", stableBody("wx9999999999999999", testSecret, false), 40013},
			{"wrong secret", "POST", stableBody(testAppID, "nope", false), 40125},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantErr(t, tt.name, call(t, e, tt.method, "/cgi-bin/stable_token", tt.body), tt.code)
			})
		}
	})
}

func TestGetTicket(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	get := func(typ string) apiReply {
		t.Helper()
		r := call(t, e, "GET", "/cgi-bin/ticket/getticket?type="+typ+"&access_token="+url.QueryEscape(tok), "")
		if r.ErrCode != 0 || r.Ticket == "" {
			t.Fatalf("getticket %s: errcode %d %q", typ, r.ErrCode, r.ErrMsg)
		}
		return r
	}
	first := get("jsapi")
	if first.ExpiresIn != 7200 || first.ErrMsg != "ok" {
		t.Errorf("expires_in %d errmsg %q, want 7200 ok", first.ExpiresIn, first.ErrMsg)
	}
	card := get("wx_card")
	if card.Ticket == first.Ticket {
		t.Error("jsapi and wx_card tickets are the same")
	}
	advance(t, e, time.Hour)
	tok = fetchToken(t, e) // a new token does not change the ticket
	again := get("jsapi")
	if again.Ticket != first.Ticket || again.ExpiresIn != 7200 {
		t.Errorf("after 1h: same=%v expires_in=%d, want the same ticket, 7200", again.Ticket == first.Ticket, again.ExpiresIn)
	}
	if !e.validTicket(testAppID, "jsapi", first.Ticket) {
		t.Error("validTicket(current) = false")
	}
	advance(t, e, time.Hour)
	tok = fetchToken(t, e)
	next := get("jsapi")
	if next.Ticket == first.Ticket {
		t.Error("ticket not renewed after 7200 s")
	}
	if !e.validTicket(testAppID, "jsapi", first.Ticket) {
		t.Error("previous ticket refused right after renewal")
	}
	advance(t, e, 5*time.Minute)
	if e.validTicket(testAppID, "jsapi", first.Ticket) {
		t.Error("previous ticket accepted 5 minutes after its expiry")
	}
}
