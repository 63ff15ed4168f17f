package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/token"
)

// Library-level token retries against the emulator: what an mp.Client over
// a token.CachedSource does when WeChat rejects a token it still believes
// valid, and when the platform is busy. These complement the token
// service tests; they live here with them because they share the
// emulator helpers and exercise the same invalidation path.

// otherHolderFetch has "someone else" fetch a new access_token through
// cgi-bin/token.
func otherHolderFetch(t *testing.T, emu *emulatortest.Server, appID string) {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {e2eAppSecret}}
	resp, err := http.Get(emu.URL + "/cgi-bin/token?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("cgi-bin/token = %d %s", resp.StatusCode, b)
	}
}

// TestSupersededTokenCostsOneRetry: a token the platform invalidated
// behind our back costs concurrent mp.Client callers one transparent retry
// each, never a 40001 error, and one new fetch in all:
//
//   - cgi-bin/token: another holder fetched twice, so our token is past its
//     overlap (40001);
//   - stable_token: another holder forced a refresh; our refetch uses
//     force_refresh (30 s later, so the platform does issue a new one).
func TestSupersededTokenCostsOneRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// provider returns the fetching Source.
		provider func(appID, base string, hc *http.Client) token.Source
		// supersede invalidates the token our source holds.
		supersede func(t *testing.T, emu *emulatortest.Server, appID string)
		// wantFetches counts the tokens issued by the API in the end.
		wantFetches func(emulator.TokenFetches) int
		want        int
		wantForced  []bool
	}{
		{
			name: "cgi-bin/token",
			provider: func(appID, base string, hc *http.Client) token.Source {
				return token.NewClientCredentialProvider(appID, e2eAppSecret, token.WithBaseURL(base), token.WithHTTPClient(hc))
			},
			supersede: func(t *testing.T, emu *emulatortest.Server, appID string) {
				otherHolderFetch(t, emu, appID)
				otherHolderFetch(t, emu, appID)
			},
			wantFetches: func(f emulator.TokenFetches) int { return f.CGIBinToken },
			want:        4, // ours, two of the other holder's, our refetch
		},
		{
			name: "stable_token",
			provider: func(appID, base string, hc *http.Client) token.Source {
				return token.NewStableTokenProvider(appID, e2eAppSecret, token.WithBaseURL(base), token.WithHTTPClient(hc))
			},
			supersede: func(t *testing.T, emu *emulatortest.Server, appID string) {
				forceRefresh(t, emu, appID)
				if _, err := emu.Advance(31 * time.Second); err != nil {
					t.Fatal(err)
				}
			},
			wantFetches: func(f emulator.TokenFetches) int { return f.StableToken },
			want:        3, // ours, the other holder's forced one, our forced one
			wantForced:  []bool{false, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			appID := newAppID(t)
			emu := newEmulator(t, appID)
			rec := &stableTokenRecorder{}
			hc := &http.Client{Transport: rec, Timeout: 10 * time.Second}
			src := token.NewCachedSource(&token.MemoryStore{}, token.AccessTokenKey(appID), tt.provider(appID, emu.URL, hc))
			c := mpClient(t, emu, appID, src)
			if _, err := c.Tag().List(t.Context()); err != nil {
				t.Fatalf("Tag().List = %v", err)
			}
			tt.supersede(t, emu, appID)

			const callers = 8
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() { _, errs[i] = c.Tag().List(t.Context()) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("caller %d: Tag().List with a superseded token = %v", i, err)
				}
			}
			st := emu.Stats()
			if got := tt.wantFetches(st.TokenFetches[appID]); got != tt.want {
				t.Errorf("tokens issued = %d, want %d", got, tt.want)
			}
			if got := st.Count("/cgi-bin/tags/get", appID); got.Calls-got.Errors != callers+1 || got.Errors < 1 || got.Errors > callers {
				t.Errorf("tags/get = %+v, want %d successes after 1..%d rejections", got, callers+1, callers)
			}
			if diff := cmp.Diff(tt.wantForced, rec.calls()); diff != "" {
				t.Errorf("stable_token force_refresh flags (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBusyBurstsAbsorbed: bursts of -1 (system busy) and 45011 (minute
// quota) on an API are absorbed by mp.Client's backoff within the call's
// deadline (the emulator counts the retries); a burst that outlasts the
// deadline gives the errcode as a clear error as soon as the next retry
// could not finish in time, not at the deadline.
func TestBusyBurstsAbsorbed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code     int
		sentinel error
	}{{-1, wxkit.ErrSystemBusy}, {45011, wxkit.ErrAPIMinuteQuota}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			appID := newAppID(t)
			emu := newEmulator(t, appID)
			src := token.NewCachedSource(&token.MemoryStore{}, token.AccessTokenKey(appID),
				token.NewStableTokenProvider(appID, e2eAppSecret, token.WithBaseURL(emu.URL), token.WithHTTPClient(emu.HTTP.Client())))
			c := mpClient(t, emu, appID, src)

			if err := emu.InjectFault(emulator.Fault{Path: "/cgi-bin/tags/get", AppID: appID, ErrCode: tc.code, Count: 2}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if _, err := c.Tag().List(ctx); err != nil {
				t.Fatalf("Tag().List during a burst of 2 × %d = %v, want success", tc.code, err)
			}
			if got := emu.Stats().Count("/cgi-bin/tags/get", appID); got != (emulator.CallCount{Calls: 3, Errors: 2}) {
				t.Errorf("tags/get = %+v, want 3 calls, 2 errors", got)
			}

			emu.ResetStats()
			if err := emu.InjectFault(emulator.Fault{Path: "/cgi-bin/tags/get", AppID: appID, ErrCode: tc.code, Count: -1}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel = context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			_, err := c.Tag().List(ctx)
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("Tag().List during an endless burst = %v, want errcode %d", err, tc.code)
			}
			if ctx.Err() != nil {
				t.Errorf("Tag().List returned only at the deadline (%v); want it to give up as soon as a retry cannot finish in time", ctx.Err())
			}
			if got := emu.Stats().Count("/cgi-bin/tags/get", appID); got.Calls < 2 || got.Calls != got.Errors {
				t.Errorf("tags/get during the endless burst = %+v, want at least one retry, all failed", got)
			}
			emu.ClearFaults()
			if _, err := c.Tag().List(t.Context()); err != nil {
				t.Errorf("Tag().List after the burst = %v", err)
			}
		})
	}
}
