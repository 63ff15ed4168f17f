package interop

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/util"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
)

// wechatHosts are the platform hosts the SDKs call, all served by the
// emulator on one listener.
var wechatHosts = map[string]bool{
	"api.weixin.qq.com":     true, // Official Account, Mini Program, OAuth code exchange
	"api.mch.weixin.qq.com": true, // WeChat Pay
	"open.weixin.qq.com":    true, // web authorization page
	"mp.weixin.qq.com":      true, // showqrcode
}

// Demo users of emulator.DefaultConfig's app, in configuration order.
const (
	userZhang = "oWxkt1Qy6Fh0bK7Xc2Lp9Tn3Rs4A" // 张三, male, 深圳
	userLi    = "oWxkt1Vd8Jm5Gz1Nw6Hq0Ye7Uk2B" // 李四, female, 杭州
	userAlice = "oWxkt1Ba3Ks9Pr4Ct8Mx5Zf1Wg6C" // Alice, en
)

// newEmulator starts an emulator with the default configuration (the demo
// app and the demo merchant) and points silenceper/wechat at it until the
// test ends.
func newEmulator(t *testing.T) *emulatortest.Server {
	t.Helper()
	return newEmulatorWith(t, emulator.DefaultConfig())
}

// newEmulatorWith is newEmulator with the configuration cfg.
func newEmulatorWith(t *testing.T, cfg emulator.Config) *emulatortest.Server {
	t.Helper()
	srv := emulatortest.New(t, cfg)
	useEmulator(t, srv)
	return srv
}

// useEmulator points silenceper/wechat/v2 at srv, changing nothing but the
// base URL of the platform: the SDK has no base-URL option, so its own
// hooks for the HTTP client (wechat.SetHTTPClient) and for request URIs
// (util.SetURIModifier, which the v2 refund needs because it builds a
// client of its own for the merchant certificate) send the platform hosts
// to the emulator. Any other host but loopback is refused. Both hooks are
// package globals of the SDK: they are restored when the test ends, and
// tests using them must not run in parallel.
func useEmulator(t *testing.T, srv *emulatortest.Server) {
	t.Helper()
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatalf("emulator URL %q: %v", srv.URL, err)
	}
	prev := util.DefaultHTTPClient
	wechat.NewWechat().SetHTTPClient(&http.Client{
		Transport: &toEmulator{base: base, next: srv.HTTP.Client().Transport},
		// Redirects are the caller's to follow (the OAuth page answers one
		// to the app's redirect_uri, which is not served here).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	})
	util.SetURIModifier(func(uri string) string {
		u, err := url.Parse(uri)
		if err != nil || !wechatHosts[u.Host] {
			return uri
		}
		u.Scheme, u.Host = base.Scheme, base.Host
		return u.String()
	})
	t.Cleanup(func() {
		util.SetURIModifier(nil)
		wechat.NewWechat().SetHTTPClient(prev)
	})
}

// toEmulator is an http.RoundTripper that sends requests for the WeChat
// platform's hosts to the emulator at base, passes loopback requests
// through and refuses the rest.
type toEmulator struct {
	base *url.URL
	next http.RoundTripper
}

func (rt *toEmulator) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case wechatHosts[r.URL.Host]:
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = rt.base.Scheme, rt.base.Host, ""
	case isLoopback(r.URL.Hostname()):
	default:
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, fmt.Errorf("interop: refused a request to %s: the tests stay on loopback", r.URL.Host)
	}
	return rt.next.RoundTrip(r)
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func TestToEmulator(t *testing.T) {
	srv := emulatortest.New(t, emulator.DefaultConfig())
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &toEmulator{base: base, next: srv.HTTP.Client().Transport}}
	tests := []struct {
		name   string
		url    string
		wantOK bool // answered by the emulator (or the loopback server)
	}{
		{"platform host", "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=" + emulator.DemoAppID + "&secret=" + emulator.DemoSecret, true},
		{"pay host", "https://api.mch.weixin.qq.com/_emulator/merchants", true},
		{"loopback", srv.URL + "/_emulator/apps", true},
		{"other host", "https://example.com/", false},
		{"private address", "http://10.0.0.1/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if !tt.wantOK {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("GET %s was sent (status %d), want refused", tt.url, resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", tt.url, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s = %d, want 200", tt.url, resp.StatusCode)
			}
		})
	}
}
