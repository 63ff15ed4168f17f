package miniprogram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/token"
)

const (
	testAppID  = "wx4f4bc4dec97d474b" // the AppID of the corpus's encryptedData vector
	testSecret = "app-secret-0123456789abcdef"
)

// platform is the fake api.weixin.qq.com of a test: it serves stable_token
// ("tok-N") and counts calls by path.
type platform struct {
	issued atomic.Int32
	calls  map[string]*atomic.Int32
}

// count returns how many requests path received.
func (p *platform) count(path string) int32 {
	if c, ok := p.calls[path]; ok {
		return c.Load()
	}
	return 0
}

// setup returns a Client whose base URL is an httptest server under a path
// prefix that fails loudly if lost, the mux for per-test handlers and the
// fake platform. Retries wait no time.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, *platform) {
	t.Helper()
	mux := http.NewServeMux()
	p := &platform{calls: map[string]*atomic.Int32{}}
	for _, path := range []string{"/sns/jscode2session", "/wxa/checksession", "/wxa/business/getuserphonenumber",
		"/wxa/getwxacodeunlimit", "/cgi-bin/message/subscribe/send"} {
		p.calls[path] = new(atomic.Int32)
	}
	outer := http.NewServeMux()
	outer.Handle("/prefix/", http.StripPrefix("/prefix", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := p.calls[r.URL.Path]; ok {
			c.Add(1)
		}
		mux.ServeHTTP(w, r)
	})))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to %s lost the base URL's path prefix", r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	mux.HandleFunc("POST /cgi-bin/stable_token", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			GrantType string `json:"grant_type"`
			AppID     string `json:"appid"`
			Secret    string `json:"secret"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AppID != testAppID || body.Secret != testSecret || body.GrantType != "client_credential" {
			fmt.Fprint(w, `{"errcode":40125,"errmsg":"invalid appsecret"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":7200}`, p.issued.Add(1))
	})
	opts = append([]Option{WithBaseURL(srv.URL + "/prefix"), WithHTTPClient(srv.Client())}, opts...)
	c, err := NewClient(testAppID, testSecret, opts...)
	if err != nil {
		t.Fatalf("NewClient = %v", err)
	}
	noWait := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	c.api.Sleep = noWait
	if c.sns != nil {
		c.sns.Sleep = noWait
	}
	return c, mux, p
}

// testQuery checks the query of r against want (every key, nothing else).
func testQuery(t *testing.T, r *http.Request, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for k, v := range r.URL.Query() {
		got[k] = strings.Join(v, ",")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s %s query (-want +got):\n%s", r.Method, r.URL.Path, diff)
	}
}

// testJSONBody checks the JSON body of r against want.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	var got, w any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Errorf("%s %s body %q is not JSON: %v", r.Method, r.URL.Path, b, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("%s %s body (-want +got):\n%s", r.Method, r.URL.Path, diff)
	}
}

func TestNewClientErrors(t *testing.T) {
	t.Parallel()
	src := token.SourceFunc(func(context.Context) (*token.Token, error) { return &token.Token{Value: "x"}, nil })
	tests := []struct {
		name          string
		appID, secret string
		opts          []Option
		wantErr       bool
	}{
		{"ok", testAppID, testSecret, nil, false},
		{"no appid", "", testSecret, nil, true},
		{"no secret", testAppID, "", nil, true},
		{"no secret with token source", testAppID, "", []Option{WithTokenSource(src)}, false},
		{"relative base URL", testAppID, testSecret, []Option{WithBaseURL("api.weixin.qq.com/")}, true},
		{"base URL with query", testAppID, testSecret, []Option{WithBaseURL("https://h/?x=1")}, true},
		{"nil http client", testAppID, testSecret, []Option{WithHTTPClient(nil)}, true},
		{"nil store", testAppID, testSecret, []Option{WithStore(nil)}, true},
		{"nil token source", testAppID, testSecret, []Option{WithTokenSource(nil)}, true},
		{"nil logger", testAppID, testSecret, []Option{WithLogger(nil)}, true},
		{"nil hook", testAppID, testSecret, []Option{WithAPIErrorHook(nil)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(tt.appID, tt.secret, tt.opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewClient(%q, ...) = %v, want error %v", tt.appID, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("NewClient error %q carries the secret", err)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testAppID, testSecret, WithBaseURL("http://127.0.0.1:1/emu"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL().String(); got != "http://127.0.0.1:1/emu/" {
		t.Errorf("BaseURL() = %q, want http://127.0.0.1:1/emu/", got)
	}
	c2, _ := NewClient(testAppID, testSecret)
	if got := c2.BaseURL().String(); got != DefaultBaseURL {
		t.Errorf("default BaseURL() = %q, want %q", got, DefaultBaseURL)
	}
	if c2.AppID() != testAppID {
		t.Errorf("AppID() = %q, want %q", c2.AppID(), testAppID)
	}
}

// TestTokenSharedThroughStore: two clients on one store fetch one
// access_token, under token.AccessTokenKey(appID).
func TestTokenSharedThroughStore(t *testing.T) {
	t.Parallel()
	store := &token.MemoryStore{}
	c1, mux, p := setup(t, WithStore(store))
	mux.HandleFunc("GET /wxa/checksession", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("access_token"); got != "tok-1" {
			t.Errorf("access_token = %q, want tok-1", got)
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	c2, err := NewClient(testAppID, testSecret, WithBaseURL(c1.BaseURL().String()), WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Client{c1, c2} {
		if err := c.CheckSession(t.Context(), "o1", "tiihtNczf5v6AKRyjwEUhQ=="); err != nil {
			t.Fatalf("CheckSession = %v", err)
		}
	}
	if n := p.issued.Load(); n != 1 {
		t.Errorf("stable_token calls = %d, want 1", n)
	}
	if tok, err := store.Get(t.Context(), token.AccessTokenKey(testAppID)); err != nil || tok.Value != "tok-1" {
		t.Errorf("store holds %v, %v; want tok-1", tok, err)
	}
}

// TestTokenRejectedRetriedOnce: a 40001 invalidates the token and the call
// is sent once more with a new one.
func TestTokenRejectedRetriedOnce(t *testing.T) {
	t.Parallel()
	c, mux, p := setup(t)
	mux.HandleFunc("POST /wxa/business/getuserphonenumber", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("access_token") == "tok-1" {
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
			return
		}
		fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800000000","purePhoneNumber":"13800000000","countryCode":"86","watermark":{"appid":%q,"timestamp":1}}}`, testAppID)
	})
	if _, err := c.PhoneNumber(t.Context(), "code"); err != nil {
		t.Fatalf("PhoneNumber = %v", err)
	}
	if got := p.count("/wxa/business/getuserphonenumber"); got != 2 {
		t.Errorf("calls = %d, want 2", got)
	}
	if got := p.issued.Load(); got != 2 {
		t.Errorf("tokens issued = %d, want 2", got)
	}
}

func TestAPIErrorHook(t *testing.T) {
	t.Parallel()
	var codes []int
	c, mux, _ := setup(t, WithAPIErrorHook(func(code int) { codes = append(codes, code) }))
	mux.HandleFunc("GET /sns/jscode2session", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"errcode":40029,"errmsg":"invalid code"}`)
	})
	mux.HandleFunc("GET /wxa/checksession", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"errcode":87009,"errmsg":"invalid signature"}`)
	})
	c.Code2Session(t.Context(), "x")
	c.CheckSession(t.Context(), "o", "k")
	if diff := cmp.Diff([]int{40029, 87009}, codes); diff != "" {
		t.Errorf("hook errcodes (-want +got):\n%s", diff)
	}
}
