package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDevModeMiniProgram: dev mode hosts the demo Mini Program in the
// emulator and serves its login in the gateway with no setup: wx.login on
// the emulator's control API, then /wxa/{appid}/login and /api/me with the
// token. The banner names the routes and no secret.
func TestDevModeMiniProgram(t *testing.T) {
	t.Chdir(t.TempDir())
	r := mustRunMain(t, nil, "serve", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0")
	banner := r.stdout.String()
	for _, want := range []string{"mini      " + DevMiniAppID, "/_emulator/apps/" + DevMiniAppID + "/wx.login", "/wxa/" + DevMiniAppID + "/login"} {
		if !strings.Contains(banner, want) {
			t.Errorf("dev banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Contains(banner, devMiniSecret) {
		t.Errorf("dev banner shows the Mini Program's secret:\n%s", banner)
	}
	call := func(url, auth string, body any) (int, []byte) {
		t.Helper()
		method, rd := "GET", io.Reader(nil)
		if body != nil {
			b, _ := json.Marshal(body)
			method, rd = "POST", bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(t.Context(), method, url, rd)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	status, body := call(r.emulatorURL+"/_emulator/apps/"+DevMiniAppID+"/wx.login", "", map[string]string{"openid": ""})
	var code struct{ Code string }
	if status != http.StatusOK || json.Unmarshal(body, &code) != nil || code.Code == "" {
		t.Fatalf("wx.login on the emulator = %d %s, want a code", status, body)
	}
	status, body = call(r.gatewayURL+"/wxa/"+DevMiniAppID+"/login", "", map[string]string{"code": code.Code})
	var lr struct {
		Token  string `json:"token"`
		OpenID string `json:"openid"`
		IsNew  bool   `json:"is_new"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &lr) != nil || lr.Token == "" || lr.OpenID == "" || !lr.IsNew {
		t.Fatalf("POST /wxa/%s/login = %d %s, want a token for a new user", DevMiniAppID, status, body)
	}
	status, body = call(r.gatewayURL+"/api/me", lr.Token, nil)
	if status != http.StatusOK || !strings.Contains(string(body), lr.OpenID) {
		t.Errorf("GET /api/me = %d %s, want the user %s", status, body, lr.OpenID)
	}
}
