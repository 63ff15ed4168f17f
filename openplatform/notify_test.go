package openplatform

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// messageSidecar is the part of a corpus messages/<name>.json this package
// reads.
type messageSidecar struct {
	ID       string            `json:"id"`
	InfoType string            `json:"info_type"`
	Fields   map[string]any    `json:"fields"`
	Expect   map[string]string `json:"expect"`
}

// TestNotifyCorpus pushes every corpus Open Platform sample
// (messages/component_*.xml), encrypted as the platform does, to the
// NotifyServer of the component its <AppId> names, and checks what the
// Component did with it and what the hooks saw against the sidecar's
// expect values.
func TestNotifyCorpus(t *testing.T) {
	t.Parallel()
	files := corpus.Glob(t, "messages/component_*.xml")
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".xml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			xml := corpus.ReadFile(t, "messages", name+".xml")
			var side messageSidecar
			corpus.DecodeJSON(t, &side, "messages", name+".json")
			if side.InfoType == "" {
				t.Fatalf("%s.json: no info_type", name)
			}
			componentAppID := side.Fields["AppId"].(string)
			created, err := strconv.ParseInt(side.Fields["CreateTime"].(string), 10, 64)
			if err != nil {
				t.Fatalf("%s: CreateTime: %v", name, err)
			}
			clock := newTestClock()
			clock.Set(time.Unix(created, 0).Add(time.Minute)) // the push arrives a minute later
			p := newFakePlatform(t, clock)
			p.componentAppID = componentAppID
			c, err := NewComponent(componentAppID, testSecret, testToken, testAESKey, WithBaseURL(p.url), WithClock(clock.Now))
			if err != nil {
				t.Fatalf("NewComponent(%q) = %v", componentAppID, err)
			}

			// What the Component needs for the event: a ticket and a
			// component token; the authorization code the sample carries;
			// for unauthorized, an authorizer to mark.
			authorizer, _ := side.Fields["AuthorizerAppid"].(string)
			code, _ := side.Fields["AuthorizationCode"].(string)
			if side.InfoType != string(message.InfoTypeComponentVerifyTicket) {
				seedTicket(t, c, p)
			}
			if code != "" {
				p.mu.Lock()
				p.authCodes[code] = authorizer
				p.mu.Unlock()
			}
			if side.InfoType == string(message.InfoTypeUnauthorized) {
				seedAuthorizer(t, c, authorizer)
			}

			var seen []*message.Message
			var mu sync.Mutex
			record := func(m *message.Message) {
				mu.Lock()
				seen = append(seen, m)
				mu.Unlock()
			}
			c.cfg.hooks = Hooks{
				OnTicket:           func(_ context.Context, m *message.Message) error { record(m); return nil },
				OnAuthorized:       func(_ context.Context, e *Event) error { record(e.Message); return nil },
				OnUpdateAuthorized: func(_ context.Context, e *Event) error { record(e.Message); return nil },
				OnUnauthorized:     func(_ context.Context, e *Event) error { record(e.Message); return nil },
				OnOther:            func(_ context.Context, m *message.Message) error { record(m); return nil },
			}

			rec := notify(t, c.NotifyServer(), clock, componentAppID, string(xml))
			if rec.Code != http.StatusOK || rec.Body.String() != "success" {
				t.Fatalf("push answered %d %q, want 200 success", rec.Code, rec.Body)
			}
			if len(seen) != 1 {
				t.Fatalf("hooks called %d times, want once", len(seen))
			}
			for path, want := range side.Expect {
				if got, ok := seen[0].Get(path); !ok || got != want {
					t.Errorf("message %s = %q (present %v), want %q", path, got, ok, want)
				}
			}

			ctx := t.Context()
			switch message.InfoType(side.InfoType) {
			case message.InfoTypeComponentVerifyTicket:
				tk, err := c.Ticket(ctx)
				if err != nil || tk.Value != side.Fields["ComponentVerifyTicket"] || !tk.Expiry.Equal(time.Unix(created, 0).Add(TicketLifetime)) {
					t.Errorf("Ticket() = %v, %v; want %q until CreateTime + 12 h", tk, err, side.Fields["ComponentVerifyTicket"])
				}
			case message.InfoTypeAuthorized, message.InfoTypeUpdateAuthorized:
				a, err := c.Authorizer(ctx, authorizer)
				if err != nil || !a.Authorized {
					t.Errorf("Authorizer(%q) = %+v, %v; want it stored, authorized", authorizer, a, err)
				}
				if _, ok := p.authCodes[code]; ok {
					t.Errorf("authorization code %q was not exchanged", code)
				}
			case message.InfoTypeUnauthorized:
				a, err := c.Authorizer(ctx, authorizer)
				if err != nil || a.Authorized {
					t.Errorf("Authorizer(%q) = %+v, %v; want it kept, not authorized", authorizer, a, err)
				}
			default:
				t.Errorf("corpus sample of InfoType %q: add what the Component must do with it", side.InfoType)
			}
		})
	}
}

// seedTicket pushes a fresh ticket to c.
func seedTicket(t *testing.T, c *Component, p *fakePlatform) {
	t.Helper()
	if err := c.StoreTicket(t.Context(), p.issueTicket(), p.clock.Now()); err != nil {
		t.Fatalf("StoreTicket = %v", err)
	}
}

// seedAuthorizer stores an authorized authorizer with a refresh token and
// an access token.
func seedAuthorizer(t *testing.T, c *Component, appID string) {
	t.Helper()
	now := c.now()
	a := &store.Authorizer{ComponentAppID: c.appID, AppID: appID, Authorized: true, Created: now, Updated: now,
		RefreshToken: sealRefreshToken(c.cfg.aead, c.appID, appID, "refreshtoken@@@seed")}
	if err := c.cfg.authorizers.PutAuthorizer(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if err := c.cfg.tokens.Set(t.Context(), token.AuthorizerTokenKey(c.appID, appID), &token.Token{Value: "seed-token", Expiry: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// TestForeignComponentTicketRefused: a ticket of another component pushed
// to this component's route is not stored, whether its ciphertext names
// the other component (same token and key: 403) or only its <AppId> does.
func TestForeignComponentTicketRefused(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	c, logs := newTestComponent(t, p, clock)
	srv := c.NotifyServer()
	const other = "wxothercomponent01"

	rec := notify(t, srv, clock, other, ticketXML(other, "ticket-of-the-other", clock.Now()))
	if rec.Code != http.StatusForbidden {
		t.Errorf("push encrypted for another component answered %d, want 403", rec.Code)
	}
	rec = notify(t, srv, clock, testComponent, ticketXML(other, "ticket-of-the-other", clock.Now()))
	if rec.Code != http.StatusOK || rec.Body.String() != "success" {
		t.Errorf("push of another component's AppId answered %d %q, want 200 success (no retry)", rec.Code, rec.Body)
	}
	if _, err := c.Ticket(t.Context()); !errors.Is(err, ErrNoTicket) {
		t.Errorf("Ticket() after foreign pushes = %v, want ErrNoTicket (nothing stored)", err)
	}
	if !strings.Contains(logs.String(), ErrForeignComponent.Error()) {
		t.Errorf("the refusal was not logged; log:\n%s", logs)
	}
	if err := c.HandleNotify(t.Context(), &message.Message{AppID: other, CreateTime: clock.Now().Unix(),
		InfoType: message.InfoTypeComponentVerifyTicket, ComponentVerifyTicket: "x"}); !errors.Is(err, ErrForeignComponent) {
		t.Errorf("HandleNotify(foreign) = %v, want ErrForeignComponent", err)
	}

	// A plaintext push is refused too (the route is safe mode).
	req := webhooktest.NewSignedRequest(testToken, []byte(ticketXML(testComponent, "plain", clock.Now())),
		&webhooktest.RequestOptions{Timestamp: clock.Now().Unix()})
	prec := httptest.NewRecorder()
	srv.ServeHTTP(prec, req)
	if prec.Code != http.StatusForbidden {
		t.Errorf("plaintext ticket push answered %d, want 403", prec.Code)
	}
	if _, err := c.Ticket(t.Context()); !errors.Is(err, ErrNoTicket) {
		t.Errorf("Ticket() after a plaintext push = %v, want ErrNoTicket", err)
	}
}

// TestUnauthorizedEvent: the authorizer is kept, not authorized, without
// its refresh token; its cached token is dropped and acting for it fails
// with ErrUnauthorized; authorizing again restores it.
func TestUnauthorizedEvent(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	c, _ := newTestComponent(t, p, clock)
	seedTicket(t, c, p)
	srv := c.NotifyServer()
	authorize := func() {
		t.Helper()
		pre, err := c.PreAuthCode(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.QueryAuth(t.Context(), p.authorize(pre.Code, testAuthorizer)); err != nil {
			t.Fatal(err)
		}
	}
	authorize()
	src := c.AuthorizerTokenSource(testAuthorizer)
	if _, err := src.Token(t.Context()); err != nil {
		t.Fatalf("Token before unauthorized = %v", err)
	}
	var hooked *Event
	c.cfg.hooks.OnUnauthorized = func(_ context.Context, e *Event) error { hooked = e; return nil }

	rec := notify(t, srv, clock, testComponent, authEventXML(testComponent, "unauthorized", testAuthorizer, "", clock.Now()))
	if rec.Body.String() != "success" {
		t.Fatalf("unauthorized push answered %q", rec.Body)
	}
	if hooked == nil || hooked.AuthorizerAppID != testAuthorizer || hooked.Authorization != nil {
		t.Errorf("OnUnauthorized got %+v", hooked)
	}
	raw, err := c.cfg.authorizers.Authorizer(t.Context(), testComponent, testAuthorizer)
	if err != nil || raw.Authorized || len(raw.RefreshToken) != 0 || raw.UserName != testUserName {
		t.Errorf("stored authorizer after unauthorized = %+v, %v; want kept, not authorized, no refresh token", raw, err)
	}
	if _, err := c.cfg.tokens.Get(t.Context(), token.AuthorizerTokenKey(testComponent, testAuthorizer)); !errors.Is(err, token.ErrNotFound) {
		t.Errorf("authorizer token still stored after unauthorized: %v", err)
	}
	if tok, err := src.Token(t.Context()); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Token after unauthorized = %v, %v; want ErrUnauthorized", tok, err)
	}

	// An unauthorized event for an unknown account changes nothing.
	notify(t, srv, clock, testComponent, authEventXML(testComponent, "unauthorized", "wxnever", "", clock.Now()))
	if _, err := c.Authorizer(t.Context(), "wxnever"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Authorizer(wxnever) = %v, want store.ErrNotFound", err)
	}

	authorize()
	if tok, err := src.Token(t.Context()); err != nil || tok == nil {
		t.Errorf("Token after authorizing again = %v, %v", tok, err)
	}
}

// TestUpdateAuthorizedAndOther: updateauthorized exchanges its code and
// calls its hook; other InfoTypes reach OnOther; hook errors are logged and
// answered "success".
func TestUpdateAuthorizedAndOther(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	hookErr := errors.New("application hook failed")
	var updated *Event
	var other *message.Message
	c, logs := newTestComponent(t, p, clock, WithHooks(Hooks{
		OnUpdateAuthorized: func(_ context.Context, e *Event) error { updated = e; return hookErr },
		OnOther:            func(_ context.Context, m *message.Message) error { other = m; return nil },
	}))
	seedTicket(t, c, p)
	srv := c.NotifyServer()
	pre, _ := c.PreAuthCode(t.Context())
	code := p.authorize(pre.Code, testAuthorizer)
	rec := notify(t, srv, clock, testComponent, authEventXML(testComponent, "updateauthorized", testAuthorizer, code, clock.Now()))
	if rec.Body.String() != "success" {
		t.Fatalf("updateauthorized answered %q", rec.Body)
	}
	if updated == nil || updated.InfoType != message.InfoTypeUpdateAuthorized || updated.Authorization == nil ||
		updated.Authorization.AuthorizerAppID != testAuthorizer {
		t.Errorf("OnUpdateAuthorized got %+v", updated)
	}
	if !strings.Contains(logs.String(), hookErr.Error()) {
		t.Errorf("hook error not logged:\n%s", logs)
	}

	fast := "<xml><AppId>" + testComponent + "</AppId><CreateTime>" + strconv.FormatInt(clock.Now().Unix(), 10) +
		"</CreateTime><InfoType>notify_third_fasteregister</InfoType><appid>wxnew</appid><status>0</status></xml>"
	notify(t, srv, clock, testComponent, fast)
	if other == nil || other.InfoType != "notify_third_fasteregister" {
		t.Errorf("OnOther got %+v", other)
	}

	// An authorized event whose code the platform refuses stores nothing.
	notify(t, srv, clock, testComponent, authEventXML(testComponent, "authorized", "wxrefused", "bad-code", clock.Now()))
	if _, err := c.Authorizer(t.Context(), "wxrefused"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Authorizer(wxrefused) = %v, want store.ErrNotFound", err)
	}
	if !strings.Contains(logs.String(), "61009") {
		t.Errorf("the refused code was not logged:\n%s", logs)
	}
}
