package mp

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/token"
)

// jssdkVector is one entry of crypto/jssdk_signature.json.
type jssdkVector struct {
	ID          string `json:"id"`
	JSAPITicket string `json:"jsapi_ticket"`
	NonceStr    string `json:"noncestr"`
	Timestamp   string `json:"timestamp"`
	URL         string `json:"url"`
	Signature   string `json:"signature"`
	String1     string `json:"string1"`
	Status      string `json:"status"`
}

// staticTicket is a ticket Source that always returns value.
func staticTicket(value string) token.Source {
	return token.SourceFunc(func(context.Context) (*token.Token, error) {
		return &token.Token{Value: value, Expiry: time.Now().Add(time.Hour)}, nil
	})
}

func TestJSSDKSignCorpus(t *testing.T) {
	t.Parallel()
	var file struct {
		Vectors []jssdkVector `json:"vectors"`
	}
	corpus.DecodeJSON(t, &file, "crypto", "jssdk_signature.json")
	if len(file.Vectors) == 0 {
		t.Fatal("corpus: crypto/jssdk_signature.json holds no vectors")
	}
	ran := 0
	for _, v := range file.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			ts, err := strconv.ParseInt(v.Timestamp, 10, 64)
			if err != nil {
				t.Fatalf("vector timestamp %q: %v", v.Timestamp, err)
			}
			j := &JSSDK{
				AppID:    "wx0123456789abcdef",
				Ticket:   staticTicket(v.JSAPITicket),
				Now:      func() time.Time { return time.Unix(ts, 0) },
				NonceStr: func() (string, error) { return v.NonceStr, nil },
			}
			got, err := j.Sign(t.Context(), v.URL, "updateAppMessageShareData", "chooseImage")
			if err != nil {
				t.Fatalf("Sign(%q) = %v", v.URL, err)
			}
			want := &JSSDKConfig{
				AppID: "wx0123456789abcdef", Timestamp: ts, NonceStr: v.NonceStr, Signature: v.Signature,
				JSAPIList: []string{"updateAppMessageShareData", "chooseImage"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Sign(%q) mismatch (-want +got):\n%s", v.URL, diff)
			}
			// When the vector gives the hashed string, check it hashes to
			// the signature, so that the vector itself is consistent.
			if v.String1 != "" {
				sum := sha1.Sum([]byte(v.String1))
				if hex.EncodeToString(sum[:]) != v.Signature {
					t.Errorf("vector string1 does not hash to its signature")
				}
			}
		})
		ran++
	}
	if ran != len(file.Vectors) {
		t.Fatalf("ran %d of %d vectors", ran, len(file.Vectors))
	}
}

func TestJSSDKConfigJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  JSSDKConfig
		want string
	}{
		{"with list", JSSDKConfig{AppID: "wxa", Timestamp: 1414587457, NonceStr: "n", Signature: "s", JSAPIList: []string{"chooseImage"}},
			`{"appId":"wxa","timestamp":1414587457,"nonceStr":"n","signature":"s","jsApiList":["chooseImage"]}`},
		{"without list", JSSDKConfig{AppID: "wxa", Timestamp: 1, NonceStr: "n", Signature: "s"},
			`{"appId":"wxa","timestamp":1,"nonceStr":"n","signature":"s"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%s: json = %s, want %s", tt.name, b, tt.want)
		}
	}
}

func TestJSSDKSignFragmentAndRandomNonce(t *testing.T) {
	t.Parallel()
	const ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
	now := time.Unix(1700000000, 0)
	j := &JSSDK{AppID: "wxa", Ticket: staticTicket(ticket), Now: func() time.Time { return now }}
	seen := map[string]bool{}
	for range 50 {
		cfg, err := j.Sign(t.Context(), "https://example.com/p?a=1#/route?x=2")
		if err != nil {
			t.Fatalf("Sign = %v", err)
		}
		if len(cfg.NonceStr) != 16 || strings.Trim(cfg.NonceStr, nonceAlphabet) != "" {
			t.Fatalf("nonceStr %q: want 16 characters of [A-Za-z0-9]", cfg.NonceStr)
		}
		seen[cfg.NonceStr] = true
		s1 := "jsapi_ticket=" + ticket + "&noncestr=" + cfg.NonceStr + "&timestamp=1700000000&url=https://example.com/p?a=1"
		sum := sha1.Sum([]byte(s1))
		if cfg.Signature != hex.EncodeToString(sum[:]) {
			t.Fatalf("signature %s does not sign %q", cfg.Signature, s1)
		}
		if cfg.Timestamp != 1700000000 || cfg.JSAPIList != nil {
			t.Fatalf("Sign = %+v: wrong timestamp or jsApiList", cfg)
		}
	}
	if len(seen) < 50 {
		t.Errorf("50 signatures gave %d distinct nonces", len(seen))
	}
}

func TestJSSDKSignErrors(t *testing.T) {
	t.Parallel()
	const secretTicket = "TICKETVALUE-must-not-leak"
	failing := token.SourceFunc(func(context.Context) (*token.Token, error) {
		return nil, errors.New("upstream down")
	})
	tests := []struct {
		name    string
		j       *JSSDK
		url     string
		wantIs  error
		wantSub string
	}{
		{"no ticket source", &JSSDK{AppID: "wxa"}, "https://a.example/", nil, "required"},
		{"no appid", &JSSDK{Ticket: staticTicket(secretTicket)}, "https://a.example/", nil, "required"},
		{"relative url", &JSSDK{AppID: "wxa", Ticket: staticTicket(secretTicket)}, "/page", ErrInvalidPageURL, ""},
		{"ftp url", &JSSDK{AppID: "wxa", Ticket: staticTicket(secretTicket)}, "ftp://a.example/x", ErrInvalidPageURL, ""},
		{"space in url", &JSSDK{AppID: "wxa", Ticket: staticTicket(secretTicket)}, "https://a.example/a b", ErrInvalidPageURL, ""},
		{"ticket error", &JSSDK{AppID: "wxa", Ticket: failing}, "https://a.example/", nil, "upstream down"},
		{"empty ticket", &JSSDK{AppID: "wxa", Ticket: staticTicket("")}, "https://a.example/", nil, "no ticket"},
		{"nonce error", &JSSDK{AppID: "wxa", Ticket: staticTicket(secretTicket),
			NonceStr: func() (string, error) { return "", errors.New("no entropy") }}, "https://a.example/", nil, "no entropy"},
		{"nonce too long", &JSSDK{AppID: "wxa", Ticket: staticTicket(secretTicket),
			NonceStr: func() (string, error) { return strings.Repeat("a", 33), nil }}, "https://a.example/", nil, "1 to 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.j.Sign(t.Context(), tt.url)
			if err == nil {
				t.Fatalf("Sign(%q) = %+v, want an error", tt.url, got)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Sign(%q) = %v, want errors.Is %v", tt.url, err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("Sign(%q) = %v, want it to contain %q", tt.url, err, tt.wantSub)
			}
			if strings.Contains(err.Error(), secretTicket) {
				t.Errorf("error %q shows the ticket", err)
			}
		})
	}
}

// TestJSSDKSignEmulator signs through the real token chain (access_token →
// getticket → CachedSource) against the in-process emulator, and checks the
// signature against the ticket the emulator hands out.
func TestJSSDKSignEmulator(t *testing.T) {
	t.Parallel()
	const (
		appID  = "wx0123456789abcdef"
		secret = "0123456789abcdef0123456789abcdef"
	)
	start := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	e, err := emulator.New(emulator.Config{Apps: []emulator.AppConfig{{AppID: appID, Secret: secret, Token: "wxkittoken"}}},
		emulator.WithClock(emulator.FixedClock(start)))
	if err != nil {
		t.Fatalf("emulator.New = %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	opts := []token.ProviderOption{token.WithBaseURL(srv.URL), token.WithHTTPClient(srv.Client()), token.WithClock(e.Now)}
	at := token.NewCachedSource(&token.MemoryStore{Now: e.Now}, token.AccessTokenKey(appID),
		token.NewClientCredentialProvider(appID, secret, opts...), token.WithClock(e.Now))
	ticket := token.NewCachedSource(&token.MemoryStore{Now: e.Now}, token.JSAPITicketKey(appID),
		token.NewJSAPITicketProvider(at, opts...), token.WithClock(e.Now))
	j := &JSSDK{AppID: appID, Ticket: ticket, Now: e.Now}

	const page = "http://127.0.0.1:8080/share?id=42&from=singlemessage"
	var cfgs []*JSSDKConfig
	for range 3 {
		cfg, err := j.Sign(t.Context(), page+"#top", "updateAppMessageShareData")
		if err != nil {
			t.Fatalf("Sign = %v", err)
		}
		cfgs = append(cfgs, cfg)
	}
	if n := e.Stats().Count("/cgi-bin/ticket/getticket", appID).Calls; n != 1 {
		t.Errorf("getticket called %d times for 3 signatures, want 1 (cached)", n)
	}

	// Ask the emulator for the ticket directly: it answers the same one
	// while it is valid.
	tok, err := token.NewClientCredentialProvider(appID, secret, opts...).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Get(srv.URL + "/cgi-bin/ticket/getticket?type=jsapi&access_token=" + tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct {
		Ticket string `json:"ticket"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil || reply.Ticket == "" {
		t.Fatalf("getticket reply: %v, ticket %q", err, reply.Ticket)
	}
	for _, cfg := range cfgs {
		if cfg.AppID != appID || cfg.Timestamp != start.Unix() {
			t.Errorf("Sign = %+v, want appId %s, timestamp %d", cfg, appID, start.Unix())
		}
		s1 := "jsapi_ticket=" + reply.Ticket + "&noncestr=" + cfg.NonceStr + "&timestamp=" +
			strconv.FormatInt(cfg.Timestamp, 10) + "&url=" + page
		sum := sha1.Sum([]byte(s1))
		if cfg.Signature != hex.EncodeToString(sum[:]) {
			t.Errorf("signature %s is not the emulator ticket's signature of %s", cfg.Signature, page)
		}
	}
}

// TestClientJSSDKEmulator signs through mp.Client's own ticket source
// (stable_token → getticket) against the emulator.
func TestClientJSSDKEmulator(t *testing.T) {
	t.Parallel()
	const (
		appID  = "wx0123456789abcdef"
		secret = "0123456789abcdef0123456789abcdef"
	)
	e, err := emulator.New(emulator.Config{Apps: []emulator.AppConfig{{AppID: appID, Secret: secret, Token: "wxkittoken"}}})
	if err != nil {
		t.Fatalf("emulator.New = %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	c, err := NewClient(appID, secret, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatalf("NewClient = %v", err)
	}
	j := c.JSSDK()
	j.NonceStr = func() (string, error) { return "Wm3WZYTPz0wzccnW", nil }
	j.Now = func() time.Time { return time.Unix(1414587457, 0) }
	const page = "https://app.example/pay?order=7"
	cfg, err := j.Sign(t.Context(), page+"#x")
	if err != nil {
		t.Fatalf("Sign = %v", err)
	}
	ticket, err := c.JSAPITicket(t.Context())
	if err != nil {
		t.Fatalf("JSAPITicket = %v", err)
	}
	sum := sha1.Sum([]byte("jsapi_ticket=" + ticket.Value + "&noncestr=Wm3WZYTPz0wzccnW&timestamp=1414587457&url=" + page))
	want := &JSSDKConfig{AppID: appID, Timestamp: 1414587457, NonceStr: "Wm3WZYTPz0wzccnW", Signature: hex.EncodeToString(sum[:])}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("Sign mismatch (-want +got):\n%s", diff)
	}
	if n := e.Stats().Count("/cgi-bin/ticket/getticket", appID).Calls; n != 1 {
		t.Errorf("getticket called %d times, want 1", n)
	}
}
