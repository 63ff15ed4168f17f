package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/wxcrypto"
)

// emulatorTicket reads the app's current jsapi_ticket straight from the
// emulator over the wire (stable_token, then getticket), independently of
// the gateway's token code. The emulator hands out the same ticket while it
// is valid.
func emulatorTicket(t *testing.T, e *webEnv) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": e.appID, "secret": emulator.DemoSecret, "force_refresh": false})
	resp, err := http.Post(e.emu.URL+"/cgi-bin/stable_token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	resp, err = http.Get(e.emu.URL + "/cgi-bin/ticket/getticket?type=jsapi&access_token=" + url.QueryEscape(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		ErrCode int    `json:"errcode"`
		Ticket  string `json:"ticket"`
	}
	json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if tr.ErrCode != 0 || tr.Ticket == "" {
		t.Fatalf("emulator getticket = %+v", tr)
	}
	return tr.Ticket
}

func TestJSSDKConfig(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) {
		cfg.Apps[0].JSSDK = JSSDKConfig{Domains: []string{"shop.example", "m.example:8443"}, JSAPIList: []string{"updateAppMessageShareData"}}
	})
	c := http.DefaultClient
	for _, tc := range []struct {
		name     string
		page     string
		apis     string
		signed   string // the URL that must have been signed
		wantAPIs []string
	}{
		{"page with query; fragment dropped", "https://shop.example/p/1?from=singlemessage&isappinstalled=0#top",
			"", "https://shop.example/p/1?from=singlemessage&isappinstalled=0", []string{"updateAppMessageShareData"}},
		{"explicit apis", "http://shop.example:8080/", "chooseImage,scanQRCode", "http://shop.example:8080/", []string{"chooseImage", "scanQRCode"}},
		{"domain with a port", "https://m.example:8443/x", "", "https://m.example:8443/x", []string{"updateAppMessageShareData"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"url": {tc.page}}
			if tc.apis != "" {
				q.Set("apis", tc.apis)
			}
			resp, body := get(t, c, e.url+"/jssdk/config?"+q.Encode())
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /jssdk/config = %d %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			var got mp.JSSDKConfig
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if got.AppID != e.appID || got.NonceStr == "" || got.Timestamp == 0 {
				t.Errorf("config = %+v", got)
			}
			if d := cmp.Diff(tc.wantAPIs, got.JSAPIList); d != "" {
				t.Errorf("jsApiList (-want +got):\n%s", d)
			}
			ticket := emulatorTicket(t, e)
			if want := wxcrypto.JSSDKSignature(ticket, got.NonceStr, got.Timestamp, tc.signed); got.Signature != want {
				t.Errorf("signature = %s, want %s (over the emulator's ticket and %q)", got.Signature, want, tc.signed)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		query string
		want  int
	}{
		{"foreign domain", "url=" + url.QueryEscape("https://evil.example/"), http.StatusForbidden},
		{"allowed host on another port", "url=" + url.QueryEscape("https://m.example/x"), http.StatusForbidden},
		{"look-alike host", "url=" + url.QueryEscape("https://shop.example.evil.example/"), http.StatusForbidden},
		{"no url", "", http.StatusBadRequest},
		{"relative url", "url=%2Fpage", http.StatusBadRequest},
		{"bad apis", "url=" + url.QueryEscape("https://shop.example/") + "&apis=" + url.QueryEscape("a b"), http.StatusBadRequest},
		{"unknown app", "url=" + url.QueryEscape("https://shop.example/") + "&app=wx00000000000000ff", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, e.url+"/jssdk/config?"+tc.query)
			if resp.StatusCode != tc.want {
				t.Errorf("GET /jssdk/config?%s = %d %s, want %d", tc.query, resp.StatusCode, body, tc.want)
			}
			if strings.Contains(body, "signature") {
				t.Errorf("refused request got a signature: %s", body)
			}
		})
	}
}

func TestJSSDKConfigCORS(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) {
		cfg.Apps[0].JSSDK.Domains = []string{"shop.example"}
	})
	for _, tc := range []struct {
		origin, want string
	}{
		{"https://shop.example", "https://shop.example"},
		{"https://evil.example", ""},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", e.url+"/jssdk/config?url="+url.QueryEscape("https://shop.example/"), nil)
		req.Header.Set("Origin", tc.origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("Origin %s: Access-Control-Allow-Origin = %q, want %q", tc.origin, got, tc.want)
		}
	}
}
