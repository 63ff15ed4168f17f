package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/corpus"
)

const (
	cAppID   = "wxcomponent0000001"
	cSecret  = "COMPONENT-SECRET-do-not-leak-01"
	cTicket  = "ticket@@@do-not-leak-ticket-value"
	aAppID   = "wxauthorizer000001"
	aRefresh = "refreshtoken@@@do-not-leak-refresh"
)

// TestKeysNeverClash: the keys of every kind of token for one AppID
// differ, the historical keys keep their form, and the authorizer keys of
// two components differ.
func TestKeysNeverClash(t *testing.T) {
	t.Parallel()
	const app = "wx0123456789abcdef"
	if got, want := AccessTokenKey(app), "wxkit:access_token:"+app; got != want {
		t.Errorf("AccessTokenKey = %q, want %q (deployments keep their tokens)", got, want)
	}
	if got, want := JSAPITicketKey(app), "wxkit:jsapi_ticket:"+app; got != want {
		t.Errorf("JSAPITicketKey = %q, want %q", got, want)
	}
	keys := []string{
		AccessTokenKey(app),
		JSAPITicketKey(app),
		ComponentTokenKey(app),
		ComponentTicketKey(app),
		AuthorizerTokenKey(app, app),
		AuthorizerTokenKey("wxothercomponent01", app),
		AuthorizerJSAPITicketKey(app, app),
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("key %q is used for two kinds of token", k)
		}
		seen[k] = true
		if !strings.HasPrefix(k, "wxkit:") || !strings.Contains(k, app) {
			t.Errorf("key %q: want the wxkit: namespace and the appid", k)
		}
	}
}

// corpusReply returns the body of a corpus API reply and its fields.
func corpusReply(t *testing.T, name string) ([]byte, map[string]any) {
	t.Helper()
	b := corpus.ReadFile(t, "api", name)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b, m
}

func TestComponentTokenProvider(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	reply, fields := corpusReply(t, "component_api_component_token.json")
	mux, base := serve(t)
	var calls atomic.Int32
	mux.HandleFunc("POST /cgi-bin/component/api_component_token", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.RawQuery != "" {
			t.Errorf("api_component_token query = %q, want none", r.URL.RawQuery)
		}
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("decode body: %v", err)
		}
		switch {
		case body["component_verify_ticket"] == "ticket-of-13-hours-ago":
			fmt.Fprint(w, `{"errcode":61005,"errmsg":"component ticket is expired rid: 1"}`)
		case body["component_verify_ticket"] != cTicket:
			fmt.Fprint(w, `{"errcode":61006,"errmsg":"component ticket is invalid rid: 2"}`)
		case body["component_appid"] != cAppID || body["component_appsecret"] != cSecret:
			fmt.Fprint(w, `{"errcode":40125,"errmsg":"invalid appsecret rid: 3"}`)
		default:
			w.Write(reply)
		}
	})
	ticketOf := func(v string) Source {
		return SourceFunc(func(context.Context) (*Token, error) { return &Token{Value: v}, nil })
	}
	noTicket := errors.New("no ticket pushed")
	tests := []struct {
		name    string
		secret  string
		ticket  Source
		want    *Token
		wantErr error
		calls   int32
	}{
		{"corpus reply", cSecret, ticketOf(cTicket),
			&Token{Value: fields["component_access_token"].(string), Expiry: clk.Now().Add(time.Duration(fields["expires_in"].(float64)) * time.Second)}, nil, 1},
		{"ticket expired", cSecret, ticketOf("ticket-of-13-hours-ago"), nil, &wxkit.APIError{ErrCode: 61005}, 1},
		{"ticket invalid", cSecret, ticketOf("another-component's-ticket"), nil, &wxkit.APIError{ErrCode: 61006}, 1},
		{"bad secret", cSecret + "x", ticketOf(cTicket), nil, wxkit.ErrInvalidAppSecret, 1},
		{"no ticket", cSecret, SourceFunc(func(context.Context) (*Token, error) { return nil, noTicket }), nil, noTicket, 0},
		{"empty ticket", cSecret, ticketOf(""), nil, nil, 0},
		{"no ticket source", cSecret, nil, nil, nil, 0},
		{"no secret", "", ticketOf(cTicket), nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.Load()
			p := NewComponentTokenProvider(cAppID, tt.secret, tt.ticket, WithBaseURL(base), WithClock(clk.Now))
			got, err := p.Token(t.Context())
			if n := calls.Load() - before; n != tt.calls {
				t.Errorf("api_component_token called %d times, want %d", n, tt.calls)
			}
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
			noSecret(t, err, cSecret, tt.secret, cTicket, "another-component's-ticket")
		})
	}
}

// fakeRefresh is a RefreshTokenStore in memory whose writes can fail.
type fakeRefresh struct {
	mu      sync.Mutex
	current string
	sets    []string
	failSet bool
	getErr  error
}

func (f *fakeRefresh) RefreshToken(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.current, f.getErr
}

func (f *fakeRefresh) SetRefreshToken(_ context.Context, rt string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets = append(f.sets, rt)
	if f.failSet {
		return errors.New("store down")
	}
	f.current = rt
	return nil
}

// componentTokens is a component-token Source that counts fetches and
// invalidations, handing out "ctok-<n>".
type componentTokens struct {
	n           atomic.Int32
	invalidated atomic.Int32
}

func (c *componentTokens) Token(context.Context) (*Token, error) {
	return &Token{Value: fmt.Sprintf("ctok-%d", c.n.Load()+1)}, nil
}

func (c *componentTokens) Invalidate(_ context.Context, bad *Token) error {
	if bad.Value == fmt.Sprintf("ctok-%d", c.n.Load()+1) {
		c.n.Add(1)
		c.invalidated.Add(1)
	}
	return nil
}

func TestAuthorizerTokenProvider(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	reply, fields := corpusReply(t, "component_api_authorizer_token.json")
	mux, base := serve(t)
	var mu sync.Mutex
	var got []authorizerTokenRequest
	var tokensSeen []string
	rejectFirst := map[string]bool{} // component tokens answered 40001 once
	mux.HandleFunc("POST /cgi-bin/component/api_authorizer_token", func(w http.ResponseWriter, r *http.Request) {
		var body authorizerTokenRequest
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("decode body: %v", err)
		}
		ct := r.URL.Query().Get("component_access_token")
		mu.Lock()
		got = append(got, body)
		tokensSeen = append(tokensSeen, ct)
		reject := rejectFirst[body.AuthorizerAppID] && ct == "ctok-1"
		mu.Unlock()
		switch {
		case reject:
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest rid: 4"}`)
		case body.AuthorizerRefreshToken == "revoked":
			fmt.Fprint(w, `{"errcode":61023,"errmsg":"refresh_token is invalid rid: 5"}`)
		case body.AuthorizerAppID == "wxrotates":
			fmt.Fprintf(w, `{"authorizer_access_token":"atok-rotated","expires_in":7200,"authorizer_refresh_token":"%s-next"}`, body.AuthorizerRefreshToken)
		default:
			w.Write(reply)
		}
	})
	last := func() (authorizerTokenRequest, string) {
		mu.Lock()
		defer mu.Unlock()
		return got[len(got)-1], tokensSeen[len(tokensSeen)-1]
	}

	t.Run("corpus reply", func(t *testing.T) {
		rs := &fakeRefresh{current: aRefresh}
		p := NewAuthorizerTokenProvider(cAppID, aAppID, &componentTokens{}, rs, WithBaseURL(base), WithClock(clk.Now))
		tok, err := p.Token(t.Context())
		if err != nil {
			t.Fatalf("Token = %v", err)
		}
		want := &Token{Value: fields["authorizer_access_token"].(string), Expiry: clk.Now().Add(time.Duration(fields["expires_in"].(float64)) * time.Second)}
		if diff := cmp.Diff(want, tok); diff != "" {
			t.Errorf("Token (-want +got):\n%s", diff)
		}
		body, ct := last()
		if diff := cmp.Diff(authorizerTokenRequest{cAppID, aAppID, aRefresh}, body); diff != "" {
			t.Errorf("request body (-want +got):\n%s", diff)
		}
		if ct != "ctok-1" {
			t.Errorf("component_access_token = %q, want ctok-1", ct)
		}
		// The corpus reply carries a refresh token other than the one sent:
		// it replaces the stored one.
		if diff := cmp.Diff([]string{fields["authorizer_refresh_token"].(string)}, rs.sets); diff != "" {
			t.Errorf("SetRefreshToken calls (-want +got):\n%s", diff)
		}
	})

	t.Run("same refresh token is not stored again", func(t *testing.T) {
		rs := &fakeRefresh{current: fields["authorizer_refresh_token"].(string)}
		p := NewAuthorizerTokenProvider(cAppID, aAppID, &componentTokens{}, rs, WithBaseURL(base), WithClock(clk.Now))
		if _, err := p.Token(t.Context()); err != nil {
			t.Fatalf("Token = %v", err)
		}
		if len(rs.sets) != 0 {
			t.Errorf("SetRefreshToken called with %q, want no call", rs.sets)
		}
	})

	t.Run("new refresh token kept when the store fails", func(t *testing.T) {
		rs := &fakeRefresh{current: "rt-1", failSet: true}
		p := NewAuthorizerTokenProvider(cAppID, "wxrotates", &componentTokens{}, rs, WithBaseURL(base), WithClock(clk.Now))
		tok, err := p.Token(t.Context())
		if err != nil || tok.Value != "atok-rotated" {
			t.Fatalf("Token = %v, %v; want the access token despite the store failure", tok, err)
		}
		// The next refresh sends the new refresh token (not the stale
		// stored one) and stores the newer one once the store is back.
		rs.mu.Lock()
		rs.failSet = false
		rs.mu.Unlock()
		if _, err := p.Token(t.Context()); err != nil {
			t.Fatalf("second Token = %v", err)
		}
		if body, _ := last(); body.AuthorizerRefreshToken != "rt-1-next" {
			t.Errorf("second refresh sent %q, want the pending rt-1-next", body.AuthorizerRefreshToken)
		}
		if rs.current != "rt-1-next-next" {
			t.Errorf("stored refresh token %q, want rt-1-next-next", rs.current)
		}
		if _, err := p.Token(t.Context()); err != nil {
			t.Fatalf("third Token = %v", err)
		}
		if body, _ := last(); body.AuthorizerRefreshToken != "rt-1-next-next" {
			t.Errorf("third refresh sent %q, want the stored rt-1-next-next", body.AuthorizerRefreshToken)
		}
	})

	t.Run("component token rejected once", func(t *testing.T) {
		mu.Lock()
		rejectFirst["wxretry"] = true
		mu.Unlock()
		ct := &componentTokens{}
		p := NewAuthorizerTokenProvider(cAppID, "wxretry", ct, &fakeRefresh{current: aRefresh}, WithBaseURL(base), WithClock(clk.Now))
		if _, err := p.Token(t.Context()); err != nil {
			t.Fatalf("Token = %v", err)
		}
		if n := ct.invalidated.Load(); n != 1 {
			t.Errorf("component token invalidated %d times, want 1", n)
		}
		if _, tok := last(); tok != "ctok-2" {
			t.Errorf("retry used %q, want the new ctok-2", tok)
		}
	})

	t.Run("refresh token invalid", func(t *testing.T) {
		p := NewAuthorizerTokenProvider(cAppID, aAppID, &componentTokens{}, &fakeRefresh{current: "revoked"}, WithBaseURL(base), WithClock(clk.Now))
		_, err := p.Token(t.Context())
		if !errors.Is(err, &wxkit.APIError{ErrCode: 61023}) {
			t.Fatalf("Token error = %v, want errcode 61023", err)
		}
		noSecret(t, err, "revoked", "ctok-1")
	})

	t.Run("errors", func(t *testing.T) {
		storeDown := errors.New("store down")
		for _, tt := range []struct {
			name string
			p    *AuthorizerTokenProvider
			want error
		}{
			{"refresh store fails", NewAuthorizerTokenProvider(cAppID, aAppID, &componentTokens{}, &fakeRefresh{getErr: storeDown}, WithBaseURL(base)), storeDown},
			{"no refresh token", NewAuthorizerTokenProvider(cAppID, aAppID, &componentTokens{}, &fakeRefresh{}, WithBaseURL(base)), nil},
			{"no component appid", NewAuthorizerTokenProvider("", aAppID, &componentTokens{}, &fakeRefresh{current: aRefresh}, WithBaseURL(base)), nil},
			{"no sources", NewAuthorizerTokenProvider(cAppID, aAppID, nil, nil, WithBaseURL(base)), nil},
			{"component token fails", NewAuthorizerTokenProvider(cAppID, aAppID, SourceFunc(func(context.Context) (*Token, error) { return nil, storeDown }),
				&fakeRefresh{current: aRefresh}, WithBaseURL(base)), storeDown},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tok, err := tt.p.Token(t.Context())
				if err == nil {
					t.Fatalf("Token = %v, want an error", tok)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("Token error = %v, want %v", err, tt.want)
				}
				noSecret(t, err, aRefresh)
			})
		}
	})
}

// TestAuthorizerTokenOneFetchPerLifetime: three CachedSources (three
// processes) over one store make one api_authorizer_token call per token
// lifetime.
func TestAuthorizerTokenOneFetchPerLifetime(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	mux, base := serve(t)
	var calls atomic.Int32
	mux.HandleFunc("POST /cgi-bin/component/api_authorizer_token", func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		fmt.Fprintf(w, `{"authorizer_access_token":"atok-%d","expires_in":7200,"authorizer_refresh_token":"%s"}`, n, aRefresh)
	})
	store := &MemoryStore{Now: clk.Now}
	srcs := make([]*CachedSource, 3)
	for i := range srcs {
		p := NewAuthorizerTokenProvider(cAppID, aAppID, &componentTokens{}, &fakeRefresh{current: aRefresh}, WithBaseURL(base), WithClock(clk.Now))
		srcs[i] = NewCachedSource(store, AuthorizerTokenKey(cAppID, aAppID), p, WithClock(clk.Now), WithPollInterval(time.Millisecond))
	}
	for round := range 3 {
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Go(func() {
				tok, err := srcs[i%3].Token(t.Context())
				if err != nil {
					t.Errorf("Token = %v", err)
					return
				}
				if want := fmt.Sprintf("atok-%d", round+1); tok.Value != want {
					t.Errorf("round %d: Token = %s, want %s", round, tok.Value, want)
				}
			})
		}
		wg.Wait()
		if n := calls.Load(); n != int32(round+1) {
			t.Fatalf("after lifetime %d: %d fetches, want %d", round+1, n, round+1)
		}
		clk.Advance(7200 * time.Second)
	}
}
