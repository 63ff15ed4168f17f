package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
)

const (
	pAppID  = "wx0123456789abcdef"
	pSecret = "APPSECRET-do-not-leak-0123456789"
)

// serve starts an httptest server under a path prefix that fails loudly if
// lost, and returns the mux and the base URL.
func serve(t *testing.T) (*http.ServeMux, string) {
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
	return mux, srv.URL + "/prefix"
}

func noSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range secrets {
			if s != "" && strings.Contains(e.Error(), s) {
				t.Errorf("error %q carries a secret", e)
			}
		}
	}
}

func TestClientCredentialProvider(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	mux, base := serve(t)
	mux.HandleFunc("GET /cgi-bin/token", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("grant_type") != "client_credential":
			fmt.Fprint(w, `{"errcode":40002,"errmsg":"invalid grant_type"}`)
		case q.Get("appid") == "wxblocked":
			fmt.Fprint(w, `{"errcode":40164,"errmsg":"invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist rid: 1"}`)
		case q.Get("appid") == "wxempty":
			fmt.Fprint(w, `{"access_token":"","expires_in":7200}`)
		case q.Get("secret") != pSecret:
			fmt.Fprint(w, `{"errcode":40125,"errmsg":"invalid appsecret rid: 2"}`)
		default:
			fmt.Fprint(w, `{"access_token":"ACCESS_TOKEN_1","expires_in":7200}`)
		}
	})
	tests := []struct {
		name, appID, secret string
		want                *Token
		wantErr             error
	}{
		{"ok", pAppID, pSecret, &Token{Value: "ACCESS_TOKEN_1", Expiry: clk.Now().Add(7200 * time.Second)}, nil},
		{"bad secret", pAppID, pSecret + "x", nil, wxkit.ErrInvalidAppSecret},
		{"not whitelisted", "wxblocked", pSecret, nil, wxkit.ErrIPNotInWhitelist},
		{"empty token", "wxempty", pSecret, nil, nil},
		{"missing secret", pAppID, "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewClientCredentialProvider(tt.appID, tt.secret, WithBaseURL(base), WithClock(clk.Now))
			got, err := p.Token(t.Context())
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Token = %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Token (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Token = %v, want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Token error = %v, want %v", err, tt.wantErr)
			}
			noSecret(t, err, pSecret, tt.secret)
		})
	}
}

func TestProviderTransportErrorHidesSecret(t *testing.T) {
	t.Parallel()
	// Nothing listens on this port: net/http's *url.Error would carry the
	// full URL, query (and so the secret) included.
	p := NewClientCredentialProvider(pAppID, pSecret, WithBaseURL("http://127.0.0.1:1/"))
	_, err := p.Token(t.Context())
	if err == nil {
		t.Fatal("Token = nil error, want a connection error")
	}
	noSecret(t, err, pSecret)
	if !strings.Contains(err.Error(), "cgi-bin/token") {
		t.Errorf("error %q does not name the call", err)
	}
	tp := NewJSAPITicketProvider(SourceFunc(func(context.Context) (*Token, error) {
		return &Token{Value: "ACCESS-TOKEN-SECRET-xyz"}, nil
	}), WithBaseURL("http://127.0.0.1:1/"))
	_, err = tp.Token(t.Context())
	if err == nil {
		t.Fatal("ticket Token = nil error")
	}
	noSecret(t, err, "ACCESS-TOKEN-SECRET-xyz")
}

func TestStableTokenProvider(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	mux, base := serve(t)
	var mu sync.Mutex
	var forces []bool
	current := "stable-1"
	mux.HandleFunc("POST /cgi-bin/stable_token", func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("body: %v", err)
		}
		if body["grant_type"] != "client_credential" || body["appid"] != pAppID {
			t.Errorf("body = %v", body)
		}
		if body["secret"] != pSecret {
			fmt.Fprint(w, `{"errcode":40125,"errmsg":"invalid appsecret"}`)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		force := body["force_refresh"].(bool)
		forces = append(forces, force)
		if force {
			current = fmt.Sprintf("stable-%d", len(forces))
		}
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":7000}`, current)
	})
	p := NewStableTokenProvider(pAppID, pSecret, WithBaseURL(base), WithClock(clk.Now))
	get := func() string {
		t.Helper()
		tok, err := p.Token(t.Context())
		if err != nil {
			t.Fatalf("Token = %v", err)
		}
		if want := clk.Now().Add(7000 * time.Second); !tok.Expiry.Equal(want) {
			t.Errorf("Expiry = %v, want %v", tok.Expiry, want)
		}
		return tok.Value
	}
	if v := get(); v != "stable-1" {
		t.Fatalf("first Token = %q", v)
	}
	get()
	p.Reject(&Token{Value: "stable-1"})
	if v := get(); v != "stable-3" {
		t.Fatalf("after Reject Token = %q, want a forced new token stable-3", v)
	}
	get() // back to force_refresh=false
	// A second rejection within 30 s cannot force (the platform would not
	// refresh anyway), but one 30 s later does.
	p.Reject(&Token{Value: "stable-3"})
	clk.Advance(10 * time.Second)
	get()
	clk.Advance(30 * time.Second)
	get()
	mu.Lock()
	if diff := cmp.Diff([]bool{false, false, true, false, false, true}, forces); diff != "" {
		t.Errorf("force_refresh per call (-want +got):\n%s", diff)
	}
	mu.Unlock()

	bad := NewStableTokenProvider(pAppID, "wrong-"+pSecret, WithBaseURL(base))
	_, err := bad.Token(t.Context())
	if !errors.Is(err, wxkit.ErrInvalidAppSecret) {
		t.Fatalf("Token with a wrong secret = %v, want ErrInvalidAppSecret", err)
	}
	noSecret(t, err, pSecret, "wrong-"+pSecret)
}

// TestStableTokenForceAfterInvalidate wires CachedSource.Invalidate to the
// provider: the refetch after a rejection uses force_refresh.
func TestStableTokenForceAfterInvalidate(t *testing.T) {
	t.Parallel()
	mux, base := serve(t)
	var mu sync.Mutex
	var forces []bool
	mux.HandleFunc("POST /cgi-bin/stable_token", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ForceRefresh bool `json:"force_refresh"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		forces = append(forces, body.ForceRefresh)
		n := len(forces)
		mu.Unlock()
		fmt.Fprintf(w, `{"access_token":"st-%d","expires_in":7200}`, n)
	})
	cs := NewCachedSource(&MemoryStore{}, AccessTokenKey(pAppID), NewStableTokenProvider(pAppID, pSecret, WithBaseURL(base)))
	t1, err := cs.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Invalidate(t.Context(), t1); err != nil {
		t.Fatal(err)
	}
	t2, err := cs.Token(t.Context())
	if err != nil || t2.Value != "st-2" {
		t.Fatalf("Token after Invalidate = %v, %v", t2, err)
	}
	if diff := cmp.Diff([]bool{false, true}, forces); diff != "" {
		t.Errorf("force_refresh (-want +got):\n%s", diff)
	}
}

func TestTicketProvider(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	mux, base := serve(t)
	var calls []string
	mux.HandleFunc("GET /cgi-bin/ticket/getticket", func(w http.ResponseWriter, r *http.Request) {
		at := r.URL.Query().Get("access_token")
		calls = append(calls, at+"/"+r.URL.Query().Get("type"))
		if at == "tok-1" {
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
			return
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","ticket":"TICKET-`+at+`","expires_in":7200}`)
	})
	up := &upstream{}
	access := NewCachedSource(&MemoryStore{}, AccessTokenKey(pAppID), up)
	p := NewJSAPITicketProvider(access, WithBaseURL(base), WithClock(clk.Now))
	got, err := p.Token(t.Context())
	if err != nil {
		t.Fatalf("Token = %v", err)
	}
	want := &Token{Value: "TICKET-tok-2", Expiry: clk.Now().Add(2 * time.Hour)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ticket (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tok-1/jsapi", "tok-2/jsapi"}, calls); diff != "" {
		t.Errorf("getticket calls (-want +got):\n%s", diff)
	}

	// Rejected twice: the error surfaces after one retry.
	always := NewTicketProvider(SourceFunc(func(context.Context) (*Token, error) {
		return &Token{Value: "tok-1"}, nil
	}), "wx_card", WithBaseURL(base))
	if _, err := always.Token(t.Context()); !errors.Is(err, wxkit.ErrInvalidCredential) {
		t.Errorf("Token with a rejected token = %v, want ErrInvalidCredential", err)
	}
	if _, err := NewJSAPITicketProvider(nil).Token(t.Context()); err == nil {
		t.Errorf("Token with no access-token source = nil error")
	}
}

func TestRemote(t *testing.T) {
	t.Parallel()
	const bearer = "gateway-bearer-secret-123"
	clk := newFakeClock()
	mux, base := serve(t)
	mux.HandleFunc("GET /token/{appid}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+bearer {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"unauthorized"}`)
			return
		}
		if r.PathValue("appid") != pAppID {
			http.Error(w, "unknown app", http.StatusNotFound)
			return
		}
		switch r.URL.Query().Get("type") {
		case "access_token":
			fmt.Fprint(w, `{"access_token":"REMOTE-AT","expires_in":3600}`)
		case "jsapi_ticket":
			fmt.Fprint(w, `{"ticket":"REMOTE-TICKET","expires_in":1800}`)
		default:
			http.Error(w, "bad type", http.StatusBadRequest)
		}
	})
	tests := []struct {
		name          string
		appID, secret string
		kind          Kind
		want          *Token
		wantInErr     string
	}{
		{"access_token", pAppID, bearer, KindAccessToken, &Token{Value: "REMOTE-AT", Expiry: clk.Now().Add(time.Hour)}, ""},
		{"jsapi_ticket", pAppID, bearer, KindJSAPITicket, &Token{Value: "REMOTE-TICKET", Expiry: clk.Now().Add(30 * time.Minute)}, ""},
		{"wrong bearer", pAppID, "nope-" + bearer, KindAccessToken, nil, "HTTP 401"},
		{"unknown app", "wxother", bearer, KindAccessToken, nil, "HTTP 404"},
		{"unknown kind", pAppID, bearer, Kind("component"), nil, "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRemote(base, tt.appID, tt.kind, tt.secret, WithClock(clk.Now))
			got, err := r.Token(t.Context())
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Remote.Token = %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Remote.Token (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("Remote.Token = %v, %v; want an error containing %q", got, err, tt.wantInErr)
			}
			noSecret(t, err, bearer)
		})
	}
}
