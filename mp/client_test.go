package mp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/token"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "app-secret-0123456789abcdef"
)

// fakePlatform records the token calls the client makes.
type fakePlatform struct {
	mu      sync.Mutex
	stable  []bool // force_refresh of each stable_token call
	issued  atomic.Int32
	tickets atomic.Int32
}

// setup returns a Client whose base URL is an httptest server under a path
// prefix that fails loudly if lost, the mux for per-test handlers, and the
// fake platform serving stable_token ("tok-N") and getticket.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, *fakePlatform) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle("/prefix/", http.StripPrefix("/prefix", mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to %s lost the base URL's path prefix", r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	fp := &fakePlatform{}
	mux.HandleFunc("POST /cgi-bin/stable_token", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			GrantType    string `json:"grant_type"`
			AppID        string `json:"appid"`
			Secret       string `json:"secret"`
			ForceRefresh bool   `json:"force_refresh"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AppID != testAppID || body.Secret != testSecret || body.GrantType != "client_credential" {
			fmt.Fprint(w, `{"errcode":40125,"errmsg":"invalid appsecret"}`)
			return
		}
		fp.mu.Lock()
		fp.stable = append(fp.stable, body.ForceRefresh)
		fp.mu.Unlock()
		fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":7200}`, fp.issued.Add(1))
	})
	mux.HandleFunc("GET /cgi-bin/ticket/getticket", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("type") != "jsapi" || !strings.HasPrefix(r.URL.Query().Get("access_token"), "tok-") {
			fmt.Fprint(w, `{"errcode":40014,"errmsg":"invalid access_token"}`)
			return
		}
		fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","ticket":"ticket-%d","expires_in":7200}`, fp.tickets.Add(1))
	})
	opts = append([]Option{WithBaseURL(srv.URL + "/prefix"), WithHTTPClient(srv.Client())}, opts...)
	c, err := NewClient(testAppID, testSecret, opts...)
	if err != nil {
		t.Fatalf("NewClient = %v", err)
	}
	return c, mux, fp
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

func TestBaseURLTrailingSlash(t *testing.T) {
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
}

func TestDo(t *testing.T) {
	t.Parallel()
	c, mux, fp := setup(t)
	mux.HandleFunc("POST /cgi-bin/menu/create", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("access_token"); got != "tok-1" {
			t.Errorf("access_token = %q, want tok-1", got)
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		if diff := cmp.Diff(map[string]any{"button": []any{}}, body); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	req, err := c.NewRequest(t.Context(), "POST", "cgi-bin/menu/create", map[string]any{"button": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Do(req, nil); err != nil {
		t.Fatalf("Do = %v", err)
	}
	if fp.issued.Load() != 1 {
		t.Errorf("stable_token called %d times, want 1", fp.issued.Load())
	}
}

func TestDoErrcodeOn200(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /cgi-bin/menu/get", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"errcode":46003,"errmsg":"menu no exist rid: 6500-1"}`)
	})
	req, _ := c.NewRequest(t.Context(), "GET", "cgi-bin/menu/get", nil)
	err := c.Do(req, &struct{}{})
	if !errors.Is(err, wxkit.ErrMenuNotFound) {
		t.Fatalf("Do = %v, want ErrMenuNotFound", err)
	}
	if e, ok := errors.AsType[*wxkit.APIError](err); !ok || e.Path != "cgi-bin/menu/get" || e.Method != "GET" {
		t.Errorf("Do error = %#v, want *APIError for GET cgi-bin/menu/get", err)
	}
}

// TestTokenRetry: a 40001 leads to exactly one refetch (with force_refresh,
// since the token was rejected) and one retry.
func TestTokenRetry(t *testing.T) {
	t.Parallel()
	c, mux, fp := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("GET /cgi-bin/user/get", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Query().Get("access_token") == "tok-1" {
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest"}`)
			return
		}
		fmt.Fprint(w, `{"total":1,"count":1}`)
	})
	req, _ := c.NewRequest(t.Context(), "GET", "cgi-bin/user/get", nil)
	var got struct {
		Total int `json:"total"`
	}
	if err := c.Do(req, &got); err != nil {
		t.Fatalf("Do = %v", err)
	}
	if got.Total != 1 || hits.Load() != 2 {
		t.Errorf("total %d after %d hits, want 1 after 2", got.Total, hits.Load())
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if diff := cmp.Diff([]bool{false, true}, fp.stable); diff != "" {
		t.Errorf("stable_token force_refresh per call (-want +got):\n%s", diff)
	}
	tok, err := c.AccessToken(t.Context())
	if err != nil || tok.Value != "tok-2" {
		t.Errorf("AccessToken after retry = %v, %v; want tok-2", tok, err)
	}
}

func TestSharedStore(t *testing.T) {
	t.Parallel()
	store := &token.MemoryStore{}
	c1, _, fp := setup(t, WithStore(store))
	c2, err := NewClient(testAppID, testSecret, WithBaseURL(c1.BaseURL().String()), WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			c := c1
			if i%2 == 1 {
				c = c2
			}
			if _, err := c.AccessToken(t.Context()); err != nil {
				t.Errorf("AccessToken = %v", err)
			}
		})
	}
	wg.Wait()
	if n := fp.issued.Load(); n != 1 {
		t.Errorf("two clients over one store: stable_token called %d times, want 1", n)
	}
}

func TestJSAPITicket(t *testing.T) {
	t.Parallel()
	c, _, fp := setup(t)
	for range 3 {
		tk, err := c.JSAPITicket(t.Context())
		if err != nil {
			t.Fatalf("JSAPITicket = %v", err)
		}
		if tk.Value != "ticket-1" || time.Until(tk.Expiry) < time.Hour {
			t.Errorf("JSAPITicket = %v, want ticket-1 valid about 2h", tk)
		}
	}
	if fp.tickets.Load() != 1 {
		t.Errorf("getticket called %d times, want 1", fp.tickets.Load())
	}
	if c.TicketSource() == nil || c.TokenSource() == nil || c.AppID() != testAppID {
		t.Errorf("accessors: %v %v %q", c.TicketSource(), c.TokenSource(), c.AppID())
	}
}

func TestWithTokenSource(t *testing.T) {
	t.Parallel()
	src := token.SourceFunc(func(context.Context) (*token.Token, error) {
		return &token.Token{Value: "given", Expiry: time.Now().Add(time.Hour)}, nil
	})
	c, mux, fp := setup(t, WithTokenSource(src))
	mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("access_token") != "given" {
			t.Errorf("access_token = %q, want given", r.URL.Query().Get("access_token"))
		}
		fmt.Fprint(w, `{}`)
	})
	req, _ := c.NewRequest(t.Context(), "GET", "x", nil)
	if err := c.Do(req, nil); err != nil {
		t.Fatal(err)
	}
	if fp.issued.Load() != 0 {
		t.Errorf("stable_token called with a token source given")
	}
}
