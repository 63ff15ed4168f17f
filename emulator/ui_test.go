package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// serve runs one request through the emulator in-process.
func serve(t *testing.T, e *Emulator, method, target string, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, target, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}

// webFiles reads the UI's source files from disk (independently of the
// embedded copy), by URL path.
func webFiles(t *testing.T) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir("web")
	if err != nil {
		t.Fatalf("read web/: %v", err)
	}
	out := map[string][]byte{}
	for _, en := range entries {
		if en.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("web", en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out["/ui/"+en.Name()] = b
	}
	for _, want := range []string{"/ui/index.html", "/ui/app.js", "/ui/style.css"} {
		if _, ok := out[want]; !ok {
			t.Fatalf("web/ lacks %s", strings.TrimPrefix(want, "/ui/"))
		}
	}
	return out
}

func TestUIPage(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	index := webFiles(t)["/ui/index.html"]
	for _, target := range []string{"/", "/ui/", "/ui/index.html"} {
		t.Run(target, func(t *testing.T) {
			w := serve(t, e, "GET", target, "", nil)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200", target, w.Code)
			}
			mt, params, err := mime.ParseMediaType(w.Header().Get("Content-Type"))
			if err != nil || mt != "text/html" || params["charset"] != "utf-8" {
				t.Errorf("Content-Type = %q, want text/html; charset=utf-8", w.Header().Get("Content-Type"))
			}
			if diff := cmp.Diff(string(index), w.Body.String()); diff != "" {
				t.Errorf("body differs from web/index.html:\n%s", diff)
			}
			// The app shell: chat log, footer (menu / input), account title,
			// app and user pickers, dev drawer, and the script and styles.
			for _, id := range []string{`id="chat"`, `id="footer"`, `id="nav-title"`, `id="app-select"`, `id="users"`, `id="dev"`,
				`src="/ui/app.js"`, `href="/ui/style.css"`} {
				if !strings.Contains(w.Body.String(), id) {
					t.Errorf("page lacks %s", id)
				}
			}
			csp := w.Header().Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
		})
	}
	t.Run("/ui redirects", func(t *testing.T) {
		w := serve(t, e, "GET", "/ui", "", nil)
		if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/ui/" {
			t.Errorf("GET /ui = %d Location %q, want 301 /ui/", w.Code, w.Header().Get("Location"))
		}
	})
}

func TestUIAssets(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	wantType := map[string]string{".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
	for p, src := range webFiles(t) {
		t.Run(p, func(t *testing.T) {
			w := serve(t, e, "GET", p, "", nil)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200", p, w.Code)
			}
			mt, params, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
			if want, ok := wantType[filepath.Ext(p)]; ok && (mt != want || params["charset"] != "utf-8") {
				t.Errorf("Content-Type = %q, want %s; charset=utf-8", w.Header().Get("Content-Type"), want)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache (revalidate with the ETag)", got)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if !bytes.Equal(w.Body.Bytes(), src) {
				t.Errorf("GET %s serves %d bytes that differ from web/%s (%d bytes)", p, w.Body.Len(), filepath.Base(p), len(src))
			}
			etag := w.Header().Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) {
				t.Fatalf("ETag = %q, want a strong quoted hash", etag)
			}
			// Revalidation: the same ETag gives 304 without a body; another
			// gives the file again.
			w = serve(t, e, "GET", p, "", map[string]string{"If-None-Match": etag})
			if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
				t.Errorf("If-None-Match current ETag = %d with %d bytes, want 304 and none", w.Code, w.Body.Len())
			}
			w = serve(t, e, "GET", p, "", map[string]string{"If-None-Match": `"stale"`})
			if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), src) {
				t.Errorf("If-None-Match stale ETag = %d, want 200 with the file", w.Code)
			}
			w = serve(t, e, "HEAD", p, "", nil)
			if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
				t.Errorf("HEAD = %d with %d bytes, ETag %q; want 200, no body, %s", w.Code, w.Body.Len(), w.Header().Get("ETag"), etag)
			}
		})
	}
	// Different files have different ETags.
	seen := map[string]string{}
	for p := range webFiles(t) {
		etag := serve(t, e, "GET", p, "", nil).Header().Get("ETag")
		if other, dup := seen[etag]; dup {
			t.Errorf("%s and %s share ETag %s", p, other, etag)
		}
		seen[etag] = p
	}
}

func TestUINotFoundAndMethods(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	for _, tc := range []struct {
		method, target string
		status         int
		allow          string
	}{
		{"GET", "/ui/nope.js", http.StatusNotFound, ""},
		{"GET", "/ui/web/app.js", http.StatusNotFound, ""},
		{"GET", "/ui/../ui.go", http.StatusNotFound, ""},
		{"GET", "/ui/app.js/", http.StatusNotFound, ""},
		{"GET", "/favicon.ico", http.StatusNotFound, ""},
		{"POST", "/", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"DELETE", "/ui/app.js", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"POST", "/ui/api/menu", http.StatusMethodNotAllowed, "GET"},
		{"GET", "/ui/api/click", http.StatusMethodNotAllowed, "POST"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			w := serve(t, e, tc.method, tc.target, "", nil)
			if w.Code != tc.status {
				t.Errorf("%s %s = %d, want %d", tc.method, tc.target, w.Code, tc.status)
			}
			if got := w.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
}

// TestUIAssetsOffline guards the rules of the page: it loads nothing from
// another host (the machine may be offline) and never renders server data
// as HTML.
func TestUIAssetsOffline(t *testing.T) {
	t.Parallel()
	files := webFiles(t)
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import|fonts\.googleapis|cdn\.`)
	for p, b := range files {
		if m := external.Find(b); m != nil {
			t.Errorf("%s references another host: %q", p, m)
		}
	}
	unsafe := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|createContextualFragment`)
	if m := unsafe.FindAll(files["/ui/app.js"], -1); m != nil {
		t.Errorf("app.js uses HTML sinks %q; render server data with textContent", m)
	}
	// Every /ui/ asset the page references is served.
	e := newTest(t, nil)
	refs := regexp.MustCompile(`(?:src|href)="(/ui/[^"]+)"`).FindAllSubmatch(files["/ui/index.html"], -1)
	if len(refs) < 2 {
		t.Fatalf("index.html references %d /ui/ assets, want the script and the styles", len(refs))
	}
	for _, r := range refs {
		if w := serve(t, e, "GET", string(r[1]), "", nil); w.Code != http.StatusOK {
			t.Errorf("index.html references %s, which answers %d", r[1], w.Code)
		}
	}
}

// uiMenu is the answer of /ui/api/menu.
type uiMenu struct {
	MenuID  int64 `json:"menuid"`
	Buttons []struct {
		Type       string `json:"type"`
		Name       string `json:"name"`
		Key        string `json:"key"`
		URL        string `json:"url"`
		SubButtons []struct {
			Type string `json:"type"`
			Name string `json:"name"`
			Key  string `json:"key"`
			URL  string `json:"url"`
		} `json:"sub_button"`
	} `json:"button"`
}

func TestUIMenuAndClick(t *testing.T) {
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
	user := e.Apps()[0].Users[0].OpenID
	menuURL := "/ui/api/menu?appid=" + testAppID + "&user=" + user

	// No menu yet: an empty list, not an error.
	w := serve(t, e, "GET", menuURL, "", nil)
	if w.Code != http.StatusOK || w.Body.String() != `{"menuid":0,"button":[]}` {
		t.Fatalf("menu before create = %d %s, want 200 {\"menuid\":0,\"button\":[]}", w.Code, w.Body)
	}
	tok := fetchToken(t, e)
	if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/menu/create",
		`{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"},`+
			`{"name":"菜单","sub_button":[{"type":"view","name":"搜索","url":"http://www.soso.com/"},{"type":"click","name":"赞","key":"V1001_GOOD"}]}]}`); code != 0 {
		t.Fatalf("menu/create = %d %v", code, m["errmsg"])
	}
	w = serve(t, e, "GET", menuURL, "", nil)
	var got uiMenu
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
		t.Fatalf("menu = %d %s (%v)", w.Code, w.Body, err)
	}
	um, err := e.MenuFor(testAppID, user)
	if err != nil || um == nil {
		t.Fatalf("MenuFor = %v, %v", um, err)
	}
	if got.MenuID != um.MenuID || len(got.Buttons) != 2 || got.Buttons[0].Key != "V1001_TODAY_MUSIC" ||
		len(got.Buttons[1].SubButtons) != 2 || got.Buttons[1].SubButtons[0].URL != "http://www.soso.com/" {
		t.Errorf("menu = %+v, want menuid %d with the created buttons", got, um.MenuID)
	}

	for _, tc := range []struct{ button, event, key string }{
		{"V1001_GOOD", "CLICK", "V1001_GOOD"},
		{"http://www.soso.com/", "VIEW", "http://www.soso.com/"},
		{"今日歌曲", "CLICK", "V1001_TODAY_MUSIC"},
	} {
		t.Run("click "+tc.button, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"appid": testAppID, "user": user, "button": tc.button})
			w := serve(t, e, "POST", "/ui/api/click", string(body), nil)
			var res PushResult
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != http.StatusOK {
				t.Fatalf("click = %d %s (%v)", w.Code, w.Body, err)
			}
			if !res.NoReply || res.Error != "" || len(res.Attempts) != 1 {
				t.Errorf("click result = %+v, want one delivery answered success", res)
			}
			mu.Lock()
			last := pushed[len(pushed)-1]
			mu.Unlock()
			for _, want := range []string{"<Event><![CDATA[" + tc.event + "]]></Event>", "<EventKey><![CDATA[" + tc.key + "]]></EventKey>"} {
				if !strings.Contains(last, want) {
					t.Errorf("pushed %s, want %s", last, want)
				}
			}
		})
	}
	// The clicks are in the conversation the page polls.
	log, err := e.Conversation(testAppID, user)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, en := range log {
		events = append(events, string(en.Event)+" "+en.EventKey)
	}
	if want := []string{"CLICK V1001_GOOD", "VIEW http://www.soso.com/", "CLICK V1001_TODAY_MUSIC"}; !slices.Equal(events, want) {
		t.Errorf("conversation events = %q, want %q", events, want)
	}

	for _, tc := range []struct {
		name, target, body string
		status             int
	}{
		{"menu unknown app", "/ui/api/menu?appid=wxnope&user=" + user, "", http.StatusNotFound},
		{"menu unknown user", "/ui/api/menu?appid=" + testAppID + "&user=onope", "", http.StatusNotFound},
		{"click unknown button", "/ui/api/click", `{"appid":"` + testAppID + `","user":"` + user + `","button":"NOPE"}`, http.StatusBadRequest},
		{"click unknown app", "/ui/api/click", `{"appid":"wxnope","user":"` + user + `","button":"V1001_GOOD"}`, http.StatusNotFound},
		{"click unknown user", "/ui/api/click", `{"appid":"` + testAppID + `","user":"onope","button":"V1001_GOOD"}`, http.StatusNotFound},
		{"click unknown field", "/ui/api/click", `{"appid":"` + testAppID + `","bogus":1}`, http.StatusBadRequest},
		{"click bad JSON", "/ui/api/click", `{`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if tc.body != "" {
				method = "POST"
			}
			w := serve(t, e, method, tc.target, tc.body, nil)
			var ce controlError
			if w.Code != tc.status || json.Unmarshal(w.Body.Bytes(), &ce) != nil || ce.Error == "" {
				t.Errorf("%s %s = %d %s, want %d with {\"error\":...}", method, tc.target, w.Code, w.Body, tc.status)
			}
		})
	}
	// An app without a push URL is a conflict.
	if err := e.SetPushURL(testAppID, ""); err != nil {
		t.Fatal(err)
	}
	w = serve(t, e, "POST", "/ui/api/click", `{"appid":"`+testAppID+`","user":"`+user+`","button":"V1001_GOOD"}`, nil)
	if w.Code != http.StatusConflict {
		t.Errorf("click without push_url = %d %s, want 409", w.Code, w.Body)
	}
}

// The page and its API are not platform calls: they never show in stats and
// faults never hit them.
func TestUINotCountedAsPlatformCalls(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	e.InjectFault(Fault{Path: "/", Count: -1, Status: http.StatusBadGateway})
	for _, p := range []string{"/", "/ui/", "/ui/app.js", "/ui/nope.js"} {
		rr := httptest.NewRecorder()
		e.ServeHTTP(rr, httptest.NewRequest("GET", p, nil))
		if rr.Code == http.StatusBadGateway {
			t.Errorf("GET %s hit the fault injected for /", p)
		}
	}
	for path := range e.Stats().Calls {
		if path == "/" || strings.HasPrefix(path, "/ui") {
			t.Errorf("stats count UI path %s as a platform call", path)
		}
	}
}
