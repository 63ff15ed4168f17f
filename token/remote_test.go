package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
)

// fakeTokenService is the gateway's token service in miniature: it hands
// out the current value of each kind and replaces it when told, through
// POST /token/{appid}/invalidate, that the current value was rejected.
type fakeTokenService struct {
	bearer string

	mu      sync.Mutex
	current map[Kind]string
	gen     int
	log     []string // "GET access_token", "POST access_token <value>"
	noInval bool     // answer the invalidate endpoint with 404 (an older gateway)
}

func newFakeTokenService(t *testing.T, bearer string) (*fakeTokenService, string) {
	t.Helper()
	s := &fakeTokenService{bearer: bearer, current: map[Kind]string{KindAccessToken: "AT-1", KindJSAPITicket: "TICKET-1"}, gen: 1}
	mux, base := serve(t)
	auth := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer "+s.bearer {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errcode":41001,"errmsg":"missing or wrong bearer secret"}`)
			return false
		}
		if r.PathValue("appid") != pAppID {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errcode":40013,"errmsg":"invalid appid"}`)
			return false
		}
		return true
	}
	mux.HandleFunc("GET /token/{appid}", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		k := Kind(r.URL.Query().Get("type"))
		s.mu.Lock()
		s.log = append(s.log, "GET "+string(k))
		v := s.current[k]
		s.mu.Unlock()
		if k == KindJSAPITicket {
			fmt.Fprintf(w, `{"ticket":%q,"expires_in":7000}`, v)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":7000}`, v)
	})
	mux.HandleFunc("POST /token/{appid}/invalidate", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		no := s.noInval
		s.mu.Unlock()
		if no {
			http.NotFound(w, r)
			return
		}
		if !auth(w, r) {
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("invalidate Content-Type = %q, want application/json", ct)
		}
		k := Kind(r.URL.Query().Get("type"))
		var body struct {
			AccessToken string `json:"access_token"`
			Ticket      string `json:"ticket"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("invalidate body: %v", err)
		}
		v := body.AccessToken
		if k == KindJSAPITicket {
			v = body.Ticket
			if body.AccessToken != "" {
				t.Errorf("ticket invalidation carries access_token %q", body.AccessToken)
			}
		}
		s.mu.Lock()
		s.log = append(s.log, "POST "+string(k)+" "+v)
		if s.current[k] == v {
			s.gen++
			if k == KindJSAPITicket {
				s.current[k] = fmt.Sprintf("TICKET-%d", s.gen)
			} else {
				s.current[k] = fmt.Sprintf("AT-%d", s.gen)
			}
		}
		s.mu.Unlock()
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	return s, base
}

func (s *fakeTokenService) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.log
	s.log = nil
	return out
}

func TestRemoteInvalidate(t *testing.T) {
	t.Parallel()
	const bearer = "gateway-bearer-secret-456"
	tests := []struct {
		name      string
		kind      Kind
		first     string
		wantCalls []string
		wantAfter string
	}{
		{"access_token", KindAccessToken, "AT-1", []string{"GET access_token", "POST access_token AT-1", "GET access_token"}, "AT-2"},
		{"jsapi_ticket", KindJSAPITicket, "TICKET-1", []string{"GET jsapi_ticket", "POST jsapi_ticket TICKET-1", "GET jsapi_ticket"}, "TICKET-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc, base := newFakeTokenService(t, bearer)
			r := NewRemote(base, pAppID, tt.kind, bearer)
			got, err := r.Token(t.Context())
			if err != nil || got.Value != tt.first {
				t.Fatalf("Remote.Token = %v, %v; want %s", got, err, tt.first)
			}
			if err := r.Invalidate(t.Context(), got); err != nil {
				t.Fatalf("Remote.Invalidate = %v", err)
			}
			after, err := r.Token(t.Context())
			if err != nil || after.Value != tt.wantAfter {
				t.Fatalf("Remote.Token after Invalidate = %v, %v; want %s", after, err, tt.wantAfter)
			}
			if diff := cmp.Diff(tt.wantCalls, svc.calls()); diff != "" {
				t.Errorf("service calls (-want +got):\n%s", diff)
			}
			// Invalidating the old value again changes nothing.
			if err := r.Invalidate(t.Context(), got); err != nil {
				t.Fatalf("Remote.Invalidate (stale value) = %v", err)
			}
			if again, _ := r.Token(t.Context()); again == nil || again.Value != tt.wantAfter {
				t.Errorf("Remote.Token after a stale Invalidate = %v, want %s", again, tt.wantAfter)
			}
			// nil and empty tokens are not sent.
			svc.calls()
			for _, bad := range []*Token{nil, {}} {
				if err := r.Invalidate(t.Context(), bad); err != nil {
					t.Errorf("Remote.Invalidate(%v) = %v, want nil", bad, err)
				}
			}
			if c := svc.calls(); len(c) != 0 {
				t.Errorf("Invalidate(nil/empty) called the service: %v", c)
			}
		})
	}
}

func TestRemoteInvalidateErrors(t *testing.T) {
	t.Parallel()
	const bearer = "gateway-bearer-secret-789"
	_, base := newFakeTokenService(t, bearer)
	bad := &Token{Value: "AT-1-the-rejected-token-value"}
	tests := []struct {
		name      string
		r         *Remote
		wantErr   error
		wantInErr string
	}{
		{"wrong bearer", NewRemote(base, pAppID, KindAccessToken, "nope-"+bearer), wxkit.ErrAccessTokenMissing, "41001"},
		{"unknown app", NewRemote(base, "wxother", KindAccessToken, bearer), wxkit.ErrInvalidAppID, "40013"},
		{"unknown kind", NewRemote(base, pAppID, Kind("component"), bearer), nil, "unknown kind"},
		{"no appid", NewRemote(base, "", KindAccessToken, bearer), nil, "appid is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.r.Invalidate(t.Context(), bad)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("Remote.Invalidate = %v, want an error containing %q", err, tt.wantInErr)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Remote.Invalidate = %v, want errors.Is %v", err, tt.wantErr)
			}
			noSecret(t, err, bearer, bad.Value)
		})
	}
}

// TestRemoteInCachedSource: a Remote cached in process by a CachedSource
// hears of a rejection through Reject and tells the service on its next
// fetch, so that the service does not hand the rejected token out again.
func TestRemoteInCachedSource(t *testing.T) {
	t.Parallel()
	const bearer = "gateway-bearer-secret-abc"
	svc, base := newFakeTokenService(t, bearer)
	clk := newFakeClock()
	src := NewCachedSource(&MemoryStore{Now: clk.Now}, AccessTokenKey(pAppID),
		NewRemote(base, pAppID, KindAccessToken, bearer, WithClock(clk.Now)), WithClock(clk.Now))
	first, err := src.Token(t.Context())
	if err != nil || first.Value != "AT-1" {
		t.Fatalf("Token = %v, %v; want AT-1", first, err)
	}
	if again, _ := src.Token(t.Context()); again == nil || again.Value != "AT-1" {
		t.Fatalf("cached Token = %v, want AT-1", again)
	}
	if err := src.Invalidate(t.Context(), first); err != nil {
		t.Fatalf("Invalidate = %v", err)
	}
	next, err := src.Token(t.Context())
	if err != nil || next.Value != "AT-2" {
		t.Fatalf("Token after Invalidate = %v, %v; want AT-2", next, err)
	}
	want := []string{"GET access_token", "POST access_token AT-1", "GET access_token"}
	if diff := cmp.Diff(want, svc.calls()); diff != "" {
		t.Errorf("service calls (-want +got):\n%s", diff)
	}
	// The rejection is sent once: the next refresh is a plain GET.
	clk.Advance(7000 * time.Second)
	if _, err := src.Token(t.Context()); err != nil {
		t.Fatalf("Token after expiry = %v", err)
	}
	if diff := cmp.Diff([]string{"GET access_token"}, svc.calls()); diff != "" {
		t.Errorf("service calls after expiry (-want +got):\n%s", diff)
	}
}

// TestRemoteRejectWithOldService: a service without the invalidate endpoint
// (an older gateway) does not stop Token from working.
func TestRemoteRejectWithOldService(t *testing.T) {
	t.Parallel()
	const bearer = "gateway-bearer-secret-def"
	svc, base := newFakeTokenService(t, bearer)
	svc.mu.Lock()
	svc.noInval = true
	svc.mu.Unlock()
	r := NewRemote(base, pAppID, KindAccessToken, bearer)
	r.Reject(&Token{Value: "AT-1"})
	got, err := r.Token(t.Context())
	if err != nil || got.Value != "AT-1" {
		t.Fatalf("Token after Reject with an old service = %v, %v; want AT-1", got, err)
	}
	if diff := cmp.Diff([]string{"GET access_token"}, svc.calls()); diff != "" {
		t.Errorf("service calls (-want +got):\n%s", diff)
	}
	if err := r.Invalidate(t.Context(), got); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("Invalidate with an old service = %v, want an HTTP 404 error", err)
	}
}
