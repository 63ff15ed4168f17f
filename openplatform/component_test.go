package openplatform

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes (a log sink).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestComponent returns a Component on the fake platform, logging to
// the returned buffer.
func newTestComponent(t *testing.T, p *fakePlatform, clock *testClock, opts ...Option) (*Component, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	base := []Option{
		WithBaseURL(p.url),
		WithClock(clock.Now),
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	c, err := NewComponent(testComponent, testSecret, testToken, testAESKey, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewComponent = %v", err)
	}
	return c, logs
}

// noSecrets fails when s carries one of the secrets.
func noSecrets(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s carries the secret %q:\n%s", what, sec, s)
		}
	}
}

// TestAuthorizationFlow runs the whole flow against the fake platform:
// ticket push → component token → pre_auth_code → authorization link →
// the administrator approves → authorized event and redirect → query_auth
// (once) → authorizer stored → menu set through its token → its token
// refreshed from the refresh token → account info.
func TestAuthorizationFlow(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	authorizers := &memAuthorizers{}
	aead, err := NewRefreshTokenCipher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	var events []*Event
	var mu sync.Mutex
	c, logs := newTestComponent(t, p, clock, WithAuthorizers(authorizers), WithRefreshTokenCipher(aead),
		WithHooks(Hooks{OnAuthorized: func(_ context.Context, e *Event) error {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
			return nil
		}}))
	srv := c.NotifyServer()
	ctx := t.Context()

	// Before any ticket, component calls say why they fail.
	if _, err := c.PreAuthCode(ctx); !errors.Is(err, ErrNoTicket) {
		t.Fatalf("PreAuthCode before a ticket = %v, want ErrNoTicket", err)
	}

	ticket := p.issueTicket()
	if rec := notify(t, srv, clock, testComponent, ticketXML(testComponent, ticket, clock.Now())); rec.Code != http.StatusOK || rec.Body.String() != "success" {
		t.Fatalf("ticket push answered %d %q, want 200 success", rec.Code, rec.Body)
	}
	stored, err := c.Ticket(ctx)
	if err != nil || stored.Value != ticket || !stored.Expiry.Equal(time.Unix(clock.Now().Unix(), 0).Add(12*time.Hour)) {
		t.Fatalf("Ticket() = %v, %v; want %s valid 12 h", stored, err, ticket)
	}

	pre, err := c.PreAuthCode(ctx)
	if err != nil {
		t.Fatalf("PreAuthCode = %v", err)
	}
	if pre.ExpiresIn != 1800 || !pre.Expiry.Equal(clock.Now().Add(1800*time.Second)) {
		t.Errorf("PreAuthCode = %+v, want 1800 s", pre)
	}
	link := c.AuthorizeURL(pre.Code, "https://example.com/callback", AuthTypeBoth, "")
	if !strings.Contains(link, "pre_auth_code="+strings.ReplaceAll(pre.Code, "@", "%40")) {
		t.Errorf("AuthorizeURL = %s, want it to carry the pre_auth_code", link)
	}

	// The administrator approves: the platform redirects with auth_code
	// and pushes an authorized event with the same code.
	code := p.authorize(pre.Code, testAuthorizer)
	if rec := notify(t, srv, clock, testComponent, authEventXML(testComponent, "authorized", testAuthorizer, code, clock.Now())); rec.Body.String() != "success" {
		t.Fatalf("authorized push answered %q", rec.Body)
	}
	a, err := c.QueryAuth(ctx, code) // the redirect's exchange, after the event's
	if err != nil {
		t.Fatalf("QueryAuth on the redirect after the event = %v, want the stored authorization", err)
	}
	if a.AuthorizerAppID != testAuthorizer || a.Token == nil || !strings.HasPrefix(a.Token.Value, "authorizertoken-"+testAuthorizer) {
		t.Errorf("QueryAuth = %+v", a)
	}
	if diff := cmp.Diff(FuncInfo{1, 15}, a.FuncInfo); diff != "" {
		t.Errorf("QueryAuth FuncInfo (-want +got):\n%s", diff)
	}
	mu.Lock()
	if len(events) != 1 || events[0].AuthorizerAppID != testAuthorizer || events[0].Authorization == nil {
		t.Errorf("OnAuthorized events = %+v, want one for %s", events, testAuthorizer)
	}
	mu.Unlock()

	got, err := c.Authorizers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []*store.Authorizer{{
		ComponentAppID: testComponent, AppID: testAuthorizer, FuncInfo: []int{1, 15},
		Nickname: "Account " + testAuthorizer, UserName: testUserName, Authorized: true,
		Created: clock.Now(), Updated: clock.Now(),
	}}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Authorizers() (-want +got):\n%s", diff)
	}

	// Act for the authorizer: the first token is the one query_auth gave.
	client, err := c.MPClient(testAuthorizer)
	if err != nil {
		t.Fatalf("MPClient = %v", err)
	}
	menu := &mp.Menu{Buttons: []mp.Button{{Type: "click", Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"}}}
	if err := client.Menu().Create(ctx, menu); err != nil {
		t.Fatalf("Menu.Create for the authorizer = %v", err)
	}
	if _, fetches := p.counts(); fetches[testAuthorizer] != 0 {
		t.Errorf("api_authorizer_token called %d times before the first token expired, want 0", fetches[testAuthorizer])
	}
	if !strings.Contains(p.menus[testAuthorizer], "V1001_TODAY_MUSIC") {
		t.Errorf("menu of %s = %q, want the one set", testAuthorizer, p.menus[testAuthorizer])
	}

	// Two hours later: a new ticket has been pushed meanwhile, and the
	// authorizer token is refreshed from the stored refresh token.
	clock.Advance(2 * time.Hour)
	notify(t, srv, clock, testComponent, ticketXML(testComponent, p.issueTicket(), clock.Now()))
	if err := client.Menu().Create(ctx, menu); err != nil {
		t.Fatalf("Menu.Create after the token expired = %v", err)
	}
	if _, fetches := p.counts(); fetches[testAuthorizer] != 1 {
		t.Errorf("api_authorizer_token called %d times, want 1", fetches[testAuthorizer])
	}

	info, err := c.AuthorizerInfo(ctx, testAuthorizer)
	if err != nil {
		t.Fatalf("AuthorizerInfo = %v", err)
	}
	if info.AppID != testAuthorizer || info.UserName != testUserName || info.ServiceTypeInfo.ID != 2 || info.VerifyTypeInfo.ID != 0 ||
		info.PrincipalName == "" || info.BusinessInfo["open_pay"] != 1 || info.IsMiniProgram() {
		t.Errorf("AuthorizerInfo = %+v", info)
	}

	noSecrets(t, "the log", logs.String(), testSecret, ticket, a.Token.Value, p.refreshTokens[testAuthorizer])
}

// TestTicketOlderThan12Hours: once the last ticket is 12 hours old,
// component calls fail with ErrNoTicket even while a component token is
// still cached, and the error says where to look.
func TestTicketOlderThan12Hours(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	c, _ := newTestComponent(t, p, clock)
	created := clock.Now()
	notify(t, c.NotifyServer(), clock, testComponent, ticketXML(testComponent, p.issueTicket(), created))

	clock.Advance(11*time.Hour + 59*time.Minute)
	if _, err := c.PreAuthCode(t.Context()); err != nil {
		t.Fatalf("PreAuthCode with an 11h59m-old ticket = %v", err)
	}
	clock.Set(created.Add(12 * time.Hour)) // the token fetched a minute ago is still valid
	_, err := c.PreAuthCode(t.Context())
	if !errors.Is(err, ErrNoTicket) {
		t.Fatalf("PreAuthCode with a 12h-old ticket = %v, want ErrNoTicket", err)
	}
	for _, want := range []string{"no component_verify_ticket received in the last 12 h", "check the authorization event URL", "api_create_preauthcode"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := c.Ticket(t.Context()); !errors.Is(err, ErrNoTicket) {
		t.Errorf("Ticket() = %v, want ErrNoTicket", err)
	}
	if _, err := c.TokenSource().Token(t.Context()); !errors.Is(err, ErrNoTicket) {
		t.Errorf("TokenSource().Token() = %v, want ErrNoTicket", err)
	}
	// A ticket that is 12 hours old on arrival is refused.
	if err := c.StoreTicket(t.Context(), "late", created); err == nil {
		t.Errorf("StoreTicket of a 12h-old ticket = nil, want an error")
	}
}

// TestTicketKeepsTheLatest: a delayed push of an older ticket does not
// replace a newer one; a ticket stamped in the future counts from now.
func TestTicketKeepsTheLatest(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	c, _ := newTestComponent(t, newFakePlatform(t, clock), clock)
	ctx := t.Context()
	now := clock.Now()
	steps := []struct {
		ticket     string
		created    time.Time
		wantValue  string
		wantExpiry time.Time
	}{
		{"t-new", now, "t-new", now.Add(TicketLifetime)},
		{"t-old", now.Add(-10 * time.Minute), "t-new", now.Add(TicketLifetime)},
		{"t-newer", now.Add(time.Minute), "t-newer", now.Add(time.Minute + TicketLifetime)},
		{"t-future", now.Add(time.Hour), "t-future", now.Add(TicketLifetime)},
	}
	for _, s := range steps {
		// The future one counts from now, which is earlier than t-newer's
		// expiry: it is older by that measure, so move the clock first.
		if s.ticket == "t-future" {
			clock.Advance(2 * time.Minute)
			s.wantExpiry = clock.Now().Add(TicketLifetime)
		}
		if err := c.StoreTicket(ctx, s.ticket, s.created); err != nil {
			t.Fatalf("StoreTicket(%s) = %v", s.ticket, err)
		}
		got, err := c.Ticket(ctx)
		if err != nil || got.Value != s.wantValue || !got.Expiry.Equal(s.wantExpiry) {
			t.Errorf("after StoreTicket(%s): Ticket() = %v, %v; want %s until %v", s.ticket, got, err, s.wantValue, s.wantExpiry)
		}
	}
	if err := c.StoreTicket(ctx, "", now); err == nil {
		t.Error("StoreTicket(empty) = nil, want an error")
	}
}

// TestNewComponentValidates: required arguments and option combinations.
func TestNewComponentValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		appID, secret, tok, aesKey string
		opts                       []Option
	}{
		{"no appid", "", testSecret, testToken, testAESKey, nil},
		{"no secret", testComponent, "", testToken, testAESKey, nil},
		{"no token", testComponent, testSecret, "", testAESKey, nil},
		{"bad key", testComponent, testSecret, testToken, "short", nil},
		{"authorizers without cipher", testComponent, testSecret, testToken, testAESKey, []Option{WithAuthorizers(&memAuthorizers{})}},
		{"bad base URL", testComponent, testSecret, testToken, testAESKey, []Option{WithBaseURL("ftp://x")}},
		{"nil store", testComponent, testSecret, testToken, testAESKey, []Option{WithTokenStore(nil)}},
		{"nil cipher", testComponent, testSecret, testToken, testAESKey, []Option{WithRefreshTokenCipher(nil)}},
		{"nil client", testComponent, testSecret, testToken, testAESKey, []Option{WithHTTPClient(nil)}},
		{"nil clock", testComponent, testSecret, testToken, testAESKey, []Option{WithClock(nil)}},
		{"nil logger", testComponent, testSecret, testToken, testAESKey, []Option{WithLogger(nil)}},
		{"nil authorizers", testComponent, testSecret, testToken, testAESKey, []Option{WithAuthorizers(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewComponent(tt.appID, tt.secret, tt.tok, tt.aesKey, tt.opts...)
			if err == nil {
				t.Fatalf("NewComponent = %v, want an error", c)
			}
			noSecrets(t, "the error", err.Error(), testSecret, testAESKey)
		})
	}
	if _, err := NewRefreshTokenCipher(make([]byte, 16)); err == nil {
		t.Error("NewRefreshTokenCipher(16 bytes) = nil error, want 32 bytes required")
	}
}

// TestOneFetchPerLifetimeAcrossInstances: three Components (three
// instances) sharing the token and authorizer stores make one
// api_component_token and one api_authorizer_token call per token
// lifetime, however many calls they serve.
func TestOneFetchPerLifetimeAcrossInstances(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name   string
		stores func(t *testing.T, clock *testClock) []stores
	}{
		{"MemoryStore", memoryStores},
		{"SQLite", sqliteStores},
	} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock()
			p := newFakePlatform(t, clock)
			aead, _ := NewRefreshTokenCipher(bytes.Repeat([]byte{9}, 32))
			var comps []*Component
			for _, s := range backend.stores(t, clock) {
				c, _ := newTestComponent(t, p, clock, WithTokenStore(s.tokens), WithAuthorizers(s.authorizers), WithRefreshTokenCipher(aead))
				comps = append(comps, c)
			}
			// The ticket reaches one instance; the authorization another.
			notify(t, comps[0].NotifyServer(), clock, testComponent, ticketXML(testComponent, p.issueTicket(), clock.Now()))
			pre, err := comps[1].PreAuthCode(t.Context())
			if err != nil {
				t.Fatalf("PreAuthCode = %v", err)
			}
			if _, err := comps[2].QueryAuth(t.Context(), p.authorize(pre.Code, testAuthorizer)); err != nil {
				t.Fatalf("QueryAuth = %v", err)
			}
			// query_auth seeded the authorizer token: let it expire, so that
			// each lifetime below starts with a fetch.
			clock.Advance(2 * time.Hour)
			startComponent, _ := p.counts()
			for lifetime := 1; lifetime <= 3; lifetime++ {
				notify(t, comps[lifetime%3].NotifyServer(), clock, testComponent, ticketXML(testComponent, p.issueTicket(), clock.Now()))
				var wg sync.WaitGroup
				for i := range 30 {
					wg.Go(func() {
						c := comps[i%3]
						if _, err := c.AuthorizerTokenSource(testAuthorizer).Token(t.Context()); err != nil {
							t.Errorf("authorizer Token = %v", err)
						}
						if _, err := c.TokenSource().Token(t.Context()); err != nil {
							t.Errorf("component Token = %v", err)
						}
					})
				}
				wg.Wait()
				component, authorizer := p.counts()
				if got := component - startComponent; got != lifetime {
					t.Errorf("lifetime %d: %d api_component_token calls in all, want %d", lifetime, got, lifetime)
				}
				if got := authorizer[testAuthorizer]; got != lifetime {
					t.Errorf("lifetime %d: %d api_authorizer_token calls in all, want %d", lifetime, got, lifetime)
				}
				clock.Advance(7200 * time.Second)
			}
		})
	}
}

// stores are the shared stores of one instance.
type stores struct {
	tokens      token.Store
	authorizers store.Authorizers
}

func memoryStores(t *testing.T, clock *testClock) []stores {
	tokens := &token.MemoryStore{Now: clock.Now}
	auth := &memAuthorizers{}
	return []stores{{tokens, auth}, {tokens, auth}, {tokens, auth}}
}
