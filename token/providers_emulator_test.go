package token_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/token"
)

// The providers absorb short -1 / 45011 bursts from the platform within the
// ctx deadline, and give up with the errcode when the burst outlasts it.
func TestProvidersAbsorbBusyBursts(t *testing.T) {
	t.Parallel()
	srv := emulatortest.New(t, emulator.DefaultConfig())
	app := emulator.DefaultConfig().Apps[0]
	opts := []token.ProviderOption{token.WithBaseURL(srv.URL + "/"), token.WithHTTPClient(srv.HTTP.Client())}
	tests := []struct {
		name string
		path string
		src  func() token.Source
	}{
		{"stable_token", "/cgi-bin/stable_token", func() token.Source { return token.NewStableTokenProvider(app.AppID, app.Secret, opts...) }},
		{"cgi-bin/token", "/cgi-bin/token", func() token.Source { return token.NewClientCredentialProvider(app.AppID, app.Secret, opts...) }},
		{"getticket", "/cgi-bin/ticket/getticket", func() token.Source {
			return token.NewJSAPITicketProvider(token.NewStableTokenProvider(app.AppID, app.Secret, opts...), opts...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ClearFaults()
			srv.InjectFault(emulator.Fault{Path: tt.path, Count: 1, ErrCode: -1})
			srv.InjectFault(emulator.Fault{Path: tt.path, Count: 1, ErrCode: 45011})
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			tok, err := tt.src().Token(ctx)
			if err != nil || tok.Value == "" {
				t.Fatalf("Token after a -1, 45011 burst = %v, %v; want a token", tok, err)
			}
			// A burst longer than the deadline: the errcode, in time.
			srv.InjectFault(emulator.Fault{Path: tt.path, Count: -1, ErrCode: -1})
			defer srv.ClearFaults()
			ctx, cancel = context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = tt.src().Token(ctx)
			if !errors.Is(err, wxkit.ErrSystemBusy) {
				t.Errorf("Token during an endless burst = %v, want errcode -1", err)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("Token during an endless burst took %v, want it to give up near the deadline", el)
			}
		})
	}
}

// When the day's forced stable_token refreshes are spent (45009), a
// rejected token still leads to a token: the provider falls back to a
// normal fetch instead of failing for the rest of the day.
func TestStableTokenForcedQuotaFallsBack(t *testing.T) {
	t.Parallel()
	cfg := emulator.DefaultConfig()
	cfg.Limits.StableForceDaily = 1
	clock := &emuClock{t: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	srv := emulatortest.New(t, cfg, emulator.WithClock(clock))
	app := cfg.Apps[0]
	p := token.NewStableTokenProvider(app.AppID, app.Secret, token.WithBaseURL(srv.URL+"/"),
		token.WithHTTPClient(srv.HTTP.Client()), token.WithClock(clock.Now))
	ctx := t.Context()
	first, err := p.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Reject(first) // forced refresh #1: allowed
	second, err := p.Token(ctx)
	if err != nil || second.Value == first.Value {
		t.Fatalf("forced Token = %v, %v; want a new token", second, err)
	}
	clock.advance(time.Minute)
	p.Reject(second) // forced refresh #2: over the daily limit of 1 → 45009
	third, err := p.Token(ctx)
	if err != nil {
		t.Fatalf("Token with the forced quota spent = %v, want the fallback to a normal fetch", err)
	}
	if third.Value != second.Value {
		t.Errorf("fallback Token = %q, want the current stable token %q", third.Value, second.Value)
	}
}

type emuClock struct{ t time.Time }

func (c *emuClock) Now() time.Time          { return c.t }
func (c *emuClock) advance(d time.Duration) { c.t = c.t.Add(d) }
