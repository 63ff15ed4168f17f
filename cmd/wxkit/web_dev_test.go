package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
)

// getJSON GETs u into v and returns the status.
func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v in %s", u, err, b)
		}
	}
	return resp.StatusCode
}

// TestDevModeMenu: dev mode syncs the demo app's menu to the emulator at
// start (Demo opens the gateway's demo page; Hello and About are answered
// by replies.clicks), and serves the demo page.
func TestDevModeMenu(t *testing.T) {
	t.Chdir(t.TempDir())
	r := mustRunMain(t, nil, "serve", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0")
	var apps struct {
		Apps []emulator.AppInfo `json:"apps"`
	}
	getJSON(t, r.emulatorURL+"/_emulator/apps", &apps)
	user := apps.Apps[0].Users[0].OpenID
	want := []emulator.MenuButton{
		{Type: "view", Name: "Demo", URL: r.gatewayURL + "/demo/"},
		{Type: "click", Name: "Hello", Key: DevClickHello},
		{Type: "click", Name: "About", Key: DevClickAbout},
	}
	// The sync runs in the background once the gateway listens.
	var menu emulator.UserMenu
	for deadline := time.Now().Add(20 * time.Second); ; {
		u := r.emulatorURL + "/ui/api/menu?" + url.Values{"appid": {emulator.DemoAppID}, "user": {user}}.Encode()
		if status := getJSON(t, u, &menu); status != http.StatusOK {
			t.Fatalf("GET /ui/api/menu = %d", status)
		}
		if len(menu.Buttons) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := cmp.Diff(want, menu.Buttons); d != "" {
		t.Fatalf("the demo app's menu in the emulator (-want +got):\n%s", d)
	}
	// One user per click: events are deduplicated by user and CreateTime
	// (WeChat's rule), and two clicks may fall in one second.
	for i, c := range []struct{ key, reply string }{{DevClickHello, devHelloReply}, {DevClickAbout, devAboutReply}} {
		from := apps.Apps[0].Users[i].OpenID
		out, err := runMain(t, nil, "push", "--emulator", r.emulatorURL, "--user", from, "--click", c.key)
		if err != nil || out != c.reply+"\n" {
			t.Errorf("push --user %s --click %s = %q, %v; want %q", from, c.key, out, err, c.reply)
		}
	}
	resp, err := http.Get(r.gatewayURL + "/demo/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /demo/ in dev mode = %d %s, want the page", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestDevEmulatorDomains: the dev emulator's demo account has the
// gateway's host as its OAuth and JS-safe domains, so that in dev mode the
// gateway's /jssdk/config signs the demo page for a wx.config the emulator
// accepts, and its login's redirect_uri is allowed.
func TestDevEmulatorDomains(t *testing.T) {
	cfg := devEmulatorConfig("127.0.0.1:18080")
	a := cfg.Apps[0]
	if a.AppID != emulator.DemoAppID || !cmp.Equal(a.OAuth.Domains, []string{"127.0.0.1:18080"}) || !cmp.Equal(a.JSDomains, []string{"127.0.0.1:18080"}) {
		t.Errorf("dev emulator app %s: oauth.domains %v, js_domains %v; want the gateway's host", a.AppID, a.OAuth.Domains, a.JSDomains)
	}

	t.Chdir(t.TempDir())
	r := mustRunMain(t, nil, "serve", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0")
	page := r.gatewayURL + "/demo/?from=test"
	var sig struct {
		AppID     string   `json:"appId"`
		Timestamp int64    `json:"timestamp"`
		NonceStr  string   `json:"nonceStr"`
		Signature string   `json:"signature"`
		JSAPIList []string `json:"jsApiList"`
	}
	if status := getJSON(t, r.gatewayURL+"/jssdk/config?"+url.Values{"url": {page + "#top"}}.Encode(), &sig); status != http.StatusOK {
		t.Fatalf("GET /jssdk/config for the demo page = %d, want 200", status)
	}
	body, _ := json.Marshal(emulator.JSAPIConfig{AppID: sig.AppID, URL: page, Timestamp: strconv.FormatInt(sig.Timestamp, 10),
		NonceStr: sig.NonceStr, Signature: sig.Signature, JSAPIList: sig.JSAPIList})
	resp, err := http.Post(r.emulatorURL+emulator.JSAPIConfigPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var res emulator.JSAPIConfigResult
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || res.ErrMsg != emulator.JSAPIConfigOK {
		t.Errorf("wx.config of the demo page = %+v, %v; want %s", res, err, emulator.JSAPIConfigOK)
	}

	// The login's redirect_uri is on the account's OAuth domains: the
	// authorize page answers, not with the platform's error 10003.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = c.Get(r.gatewayURL + "/oauth/login?return=/demo/&scope=snsapi_userinfo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	auth := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(auth, r.emulatorURL+"/connect/oauth2/authorize?") {
		t.Fatalf("GET /oauth/login = %d to %q, want a redirect to the emulator's authorize page", resp.StatusCode, auth)
	}
	resp, err = c.Get(auth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code := resp.Header.Get("X-Wxkit-Errcode"); resp.StatusCode != http.StatusOK || code != "" {
		t.Errorf("the authorize page = %d, errcode %q; want the consent page", resp.StatusCode, code)
	}
}
