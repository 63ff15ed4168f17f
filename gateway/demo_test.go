package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/emulator"
)

// TestDemoPageOff: without web.demo the routes do not exist.
func TestDemoPageOff(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, nil)
	for _, p := range []string{"/demo/", "/demo/demo.js", "/demo/demo.css"} {
		if resp, body := get(t, e.browser(t), e.url+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s with web.demo off = %d %.80s, want 404", p, resp.StatusCode, body)
		}
	}
}

// TestDemoPage: with web.demo the page and its assets are served with
// their types, cache policies and ETags; the page loads the emulator's
// JS-SDK (api_base is the emulator) and its own script, no inline script,
// under a Content-Security-Policy that allows both.
func TestDemoPage(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) { cfg.Web.Demo = true })
	c := e.browser(t)
	for _, tc := range []struct {
		path, typ, cache, contains string
	}{
		{"/demo/", "text/html; charset=utf-8", "no-cache", `<script src="` + e.emu.URL + `/open/js/jweixin-1.6.0.js"></script>`},
		{"/demo/demo.js", "text/javascript; charset=utf-8", "public, max-age=86400", "wx.chooseWXPay"},
		{"/demo/demo.css", "text/css; charset=utf-8", "public, max-age=86400", "--green"},
	} {
		resp, body := get(t, c, e.url+tc.path)
		h := resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != tc.typ || h.Get("Cache-Control") != tc.cache ||
			h.Get("ETag") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s = %d, Content-Type %q, Cache-Control %q, ETag %q; want 200 %s %s with an ETag and nosniff",
				tc.path, resp.StatusCode, h.Get("Content-Type"), h.Get("Cache-Control"), h.Get("ETag"), tc.typ, tc.cache)
		}
		if !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s lacks %q", tc.path, tc.contains)
		}
		req, _ := http.NewRequestWithContext(t.Context(), "GET", e.url+tc.path, nil)
		req.Header.Set("If-None-Match", h.Get("ETag"))
		r2, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match = %d, want 304", tc.path, r2.StatusCode)
		}
	}
	resp, body := get(t, c, e.url+"/demo/")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self' " + e.emu.URL + ";", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q allows inline scripts", csp)
	}
	if n := strings.Count(body, "<script"); n != 2 || strings.Count(body, "<script src=") != 2 {
		t.Errorf("the page has %d scripts, want 2, both external:\n%s", n, body)
	}
	for _, p := range []string{"/demo/other.js", "/demo/index.html"} {
		if resp, _ := get(t, c, e.url+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestJWeixinURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ apiBase, want string }{
		{"", OfficialJWeixinURL},
		{"https://api.weixin.qq.com", OfficialJWeixinURL},
		{"https://api.weixin.qq.com/", OfficialJWeixinURL},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081/open/js/jweixin-1.6.0.js"},
		{"http://127.0.0.1:8081/", "http://127.0.0.1:8081/open/js/jweixin-1.6.0.js"},
	} {
		c := &Config{WeChat: WeChatConfig{APIBase: tc.apiBase}}
		if got := c.JWeixinURL(); got != tc.want {
			t.Errorf("JWeixinURL() with api_base %q = %q, want %q", tc.apiBase, got, tc.want)
		}
	}
}

func TestParseConfigWebDemo(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte("web: { demo: true }\napps: [{appid: wx0123456789abcdef, secret: s, token: sometoken}]\n"))
	if err != nil {
		t.Fatalf("ParseConfig = %v", err)
	}
	if !cfg.Web.Demo {
		t.Errorf("web.demo = false, want true")
	}
	if _, err := ParseConfig([]byte("web: { demo: true, other: 1 }\n")); err == nil || !strings.Contains(err.Error(), "other") {
		t.Errorf("ParseConfig with web.other = %v, want an error naming the key", err)
	}
}
