package openplatform

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuthorizeURLs(t *testing.T) {
	t.Parallel()
	def, err := NewComponent(testComponent, testSecret, testToken, testAESKey)
	if err != nil {
		t.Fatal(err)
	}
	emu, err := NewComponent(testComponent, testSecret, testToken, testAESKey,
		WithMPBaseURL("http://127.0.0.1:9000/mp"), WithOpenBaseURL("http://127.0.0.1:9000/open/"))
	if err != nil {
		t.Fatal(err)
	}
	const pre = "preauthcode@@@Gx3_a-b"
	const redirect = "https://example.com/component/wx/callback?return=/admin&x=1"
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"PC", def.AuthorizeURL(pre, redirect, AuthTypeBoth, ""),
			"https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=" + testComponent +
				"&pre_auth_code=preauthcode%40%40%40Gx3_a-b&redirect_uri=https%3A%2F%2Fexample.com%2Fcomponent%2Fwx%2Fcallback%3Freturn%3D%2Fadmin%26x%3D1&auth_type=3"},
		{"PC one account, default type", def.AuthorizeURL(pre, "https://e.com/cb", AuthTypeDefault, "wxbiz"),
			"https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=" + testComponent +
				"&pre_auth_code=preauthcode%40%40%40Gx3_a-b&redirect_uri=https%3A%2F%2Fe.com%2Fcb&biz_appid=wxbiz"},
		{"mobile", def.MobileAuthorizeURL(pre, "https://e.com/cb", AuthTypeMiniProgram, "wxbiz"),
			"https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=" + testComponent +
				"&pre_auth_code=preauthcode%40%40%40Gx3_a-b&redirect_uri=https%3A%2F%2Fe.com%2Fcb&auth_type=2&biz_appid=wxbiz#wechat_redirect"},
		{"PC on the emulator", emu.AuthorizeURL(pre, "https://e.com/cb", AuthTypeOfficialAccount, ""),
			"http://127.0.0.1:9000/mp/cgi-bin/componentloginpage?component_appid=" + testComponent +
				"&pre_auth_code=preauthcode%40%40%40Gx3_a-b&redirect_uri=https%3A%2F%2Fe.com%2Fcb&auth_type=1"},
		{"mobile on the emulator", emu.MobileAuthorizeURL(pre, "https://e.com/cb", AuthTypeDefault, ""),
			"http://127.0.0.1:9000/open/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=" + testComponent +
				"&pre_auth_code=preauthcode%40%40%40Gx3_a-b&redirect_uri=https%3A%2F%2Fe.com%2Fcb#wechat_redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("URL =\n%s\nwant\n%s", tt.got, tt.want)
			}
		})
	}

	// The redirect URI survives the round trip exactly, query included.
	u, err := url.Parse(def.AuthorizeURL(pre, redirect, AuthTypeDefault, ""))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range u.Query() {
		got[k] = v[0]
	}
	want := map[string]string{"component_appid": testComponent, "pre_auth_code": pre, "redirect_uri": redirect}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AuthorizeURL query (-want +got):\n%s", diff)
	}
}
