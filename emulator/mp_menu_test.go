package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// mpCallJSON calls an Official Account API with the test app's token and
// decodes the answer into a generic map (errcode is 0 when absent).
func mpCallJSON(t *testing.T, e *Emulator, tok, method, path, body string) (int, map[string]any) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path+sep+"access_token="+url.QueryEscape(tok), rd)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, w.Body.String())
	}
	code, _ := m["errcode"].(float64)
	return int(code), m
}

// zhBytes returns a string of exactly n bytes: Chinese characters (3 bytes)
// padded with ASCII.
func zhBytes(n int) string { return strings.Repeat("菜", n/3) + strings.Repeat("x", n%3) }

func TestMenuCreateLimits(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	btn := func(name string) string { return fmt.Sprintf(`{"type":"click","name":%q,"key":"K"}`, name) }
	top := func(bs ...string) string { return `{"button":[` + strings.Join(bs, ",") + `]}` }
	sub := func(name string, bs ...string) string {
		return fmt.Sprintf(`{"name":%q,"sub_button":[%s]}`, name, strings.Join(bs, ","))
	}
	rep := func(b string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = b
		}
		return out
	}
	view := func(name, u string) string { return fmt.Sprintf(`{"type":"view","name":%q,"url":%q}`, name, u) }
	tests := []struct {
		name string
		body string
		code int
	}{
		{"0 buttons", `{"button":[]}`, 40016},
		{"3 buttons", top(rep(btn("a"), 3)...), 0},
		{"4 buttons", top(rep(btn("a"), 4)...), 40016},
		{"5 sub buttons", top(sub("菜单", rep(btn("a"), 5)...)), 0},
		{"6 sub buttons", top(sub("菜单", rep(btn("a"), 6)...)), 40023},
		{"top name 16 bytes", top(btn(zhBytes(16))), 0},
		{"top name 17 bytes", top(btn(zhBytes(17))), 40018},
		{"sub name 60 bytes", top(sub("菜单", btn(zhBytes(60)))), 0},
		{"sub name 61 bytes", top(sub("菜单", btn(zhBytes(61)))), 40025},
		{"key 128 bytes", top(fmt.Sprintf(`{"type":"click","name":"a","key":%q}`, zhBytes(128))), 0},
		{"key 129 bytes", top(fmt.Sprintf(`{"type":"click","name":"a","key":%q}`, zhBytes(129))), 40019},
		{"sub key 129 bytes", top(sub("菜单", fmt.Sprintf(`{"type":"click","name":"a","key":%q}`, zhBytes(129)))), 40026},
		{"url 1024 bytes", top(view("a", "http://a.cn/"+zhBytes(1024-12))), 0},
		{"url 1025 bytes", top(view("a", "http://a.cn/"+zhBytes(1025-12))), 40020},
		{"sub url 1025 bytes", top(sub("菜单", view("a", "http://a.cn/"+zhBytes(1025-12)))), 40027},
		{"invalid type", top(`{"type":"tap","name":"a","key":"k"}`), 40017},
		{"invalid sub type", top(sub("菜单", `{"type":"tap","name":"a","key":"k"}`)), 40024},
		{"three levels", top(sub("菜单", sub("子", btn("a")))), 40022},
		{"media_id not a material", top(`{"type":"media_id","name":"a","media_id":"nope"}`), 40007},
		{"miniprogram without appid", top(`{"type":"miniprogram","name":"a","url":"http://a.cn","pagepath":"p"}`), 40166},
		{"unicode escape", `{"button":[{"type":"click","name":"\u4eca\u65e5","key":"K"}]}`, 40033},
		{"not JSON", `{"button":`, 47001},
		{"empty body", ``, 44002},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/menu/create", tc.body)
			if code != tc.code {
				t.Errorf("menu/create = %d (%v), want %d", code, m["errmsg"], tc.code)
			}
		})
	}
	if code, _ := mpCallJSON(t, e, tok, "GET", "/cgi-bin/menu/create", ""); code != 43002 {
		t.Errorf("GET menu/create = %d, want 43002", code)
	}
}

func TestSetMenuLimits(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	body := fmt.Sprintf(`{"button":[{"name":"菜单","sub_button":[{"type":"click","name":%q,"key":"K"}]}]}`, zhBytes(41))
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/menu/create", body); code != 0 {
		t.Fatalf("menu/create(41-byte sub name) = %d, want 0", code)
	}
	l := DefaultMenuLimits()
	l.MaxSubNameBytes = 40
	e.SetMenuLimits(l)
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/menu/create", body); code != 40025 {
		t.Errorf("menu/create(41-byte sub name, limit 40) = %d, want 40025", code)
	}
}

func TestMenuGetShape(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/menu/create",
		`{"button":[{"type":"view","name":"搜","url":"http://a.cn/?a=1&b=2"}]}`); code != 0 {
		t.Fatal(code)
	}
	req := httptest.NewRequestWithContext(t.Context(), "GET", "/cgi-bin/menu/get?access_token="+url.QueryEscape(tok), nil)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	body := w.Body.String()
	// WeChat answers sub_button [] on leaves, a numeric menuid, and URLs unescaped.
	for _, want := range []string{`"sub_button":[]`, `"url":"http://a.cn/?a=1&b=2"`, `"menuid":`} {
		if !strings.Contains(body, want) {
			t.Errorf("menu/get = %s, want it to contain %s", body, want)
		}
	}
	if strings.Contains(body, "conditionalmenu") {
		t.Errorf("menu/get = %s, want no conditionalmenu without conditional menus", body)
	}
	_, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/menu/addconditional",
		`{"button":[{"type":"click","name":"a","key":"k"}],"matchrule":{"sex":"2"}}`)
	id, _ := m["menuid"].(string)
	if id == "" {
		t.Fatalf("addconditional = %v, want a string menuid", m)
	}
	// delconditional accepts the id as a number too.
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/menu/delconditional", `{"menuid":`+id+`}`); code != 0 {
		t.Errorf("delconditional(number) = %d, want 0", code)
	}
}

func TestClickMenu(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var pushed []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		pushed = append(pushed, string(b))
		mu.Unlock()
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(srv.Close)
	e := newTest(t, func(c *Config) {
		c.Apps[0].Mode, c.Apps[0].EncodingAESKey, c.Apps[0].PushURL = ModePlain, "", srv.URL
	})
	tok := fetchToken(t, e)
	user := e.Apps()[0].Users[0].OpenID
	if _, err := e.ClickMenu(t.Context(), testAppID, user, "K"); !errors.Is(err, ErrBadPushRequest) {
		t.Errorf("ClickMenu(no menu) = %v, want ErrBadPushRequest", err)
	}
	body := `{"button":[{"type":"click","name":"点我","key":"K"},{"type":"media_id","name":"图","media_id":"x"},` +
		`{"name":"更多","sub_button":[{"type":"scancode_push","name":"扫","key":"SCAN1"},{"type":"miniprogram","name":"小","url":"http://a.cn","appid":"wx1","pagepath":"pages/a"}]}]}`
	if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/menu/create", strings.Replace(body, `{"type":"media_id","name":"图","media_id":"x"},`, "", 1)); code != 0 {
		t.Fatalf("menu/create = %d %v", code, m["errmsg"])
	}
	um, err := e.MenuFor(testAppID, user)
	if err != nil || um == nil {
		t.Fatalf("MenuFor = %v, %v", um, err)
	}
	menuID := fmt.Sprint(um.MenuID)
	for _, tc := range []struct{ button, event, key string }{
		{"点我", "CLICK", "K"},
		{"SCAN1", "scancode_push", "SCAN1"},
		{"小", "view_miniprogram", "pages/a"},
	} {
		res, err := e.ClickMenu(t.Context(), testAppID, user, tc.button)
		if err != nil {
			t.Fatalf("ClickMenu(%q) = %v", tc.button, err)
		}
		x := res.Message.XML
		for _, want := range []string{"<Event><![CDATA[" + tc.event + "]]></Event>", "<EventKey><![CDATA[" + tc.key + "]]></EventKey>", menuID} {
			if !strings.Contains(x, want) {
				t.Errorf("ClickMenu(%q) pushed %s, want %s", tc.button, x, want)
			}
		}
	}
	// A CLICK pushed directly (as `wxkit push --click KEY` does) carries the
	// menuid too, as a bare number.
	res, err := e.Push(t.Context(), testAppID, PushRequest{User: user, Type: MsgTypeEvent, Event: EventTypeClick, EventKey: "K"})
	if err != nil {
		t.Fatalf("Push(CLICK) = %v", err)
	}
	if want := "<MenuId>" + menuID + "</MenuId>"; !strings.Contains(res.Message.XML, want) || strings.Count(res.Message.XML, "MenuId") != 2 {
		t.Errorf("Push(CLICK) pushed %s, want one %s", res.Message.XML, want)
	}
	if _, err := e.ClickMenu(t.Context(), testAppID, user, "更多"); !errors.Is(err, ErrBadPushRequest) {
		t.Errorf("ClickMenu(a button with sub buttons) = %v, want ErrBadPushRequest", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pushed) != 4 { // three taps and one direct CLICK push
		t.Errorf("pushes = %d, want 4", len(pushed))
	}
}
