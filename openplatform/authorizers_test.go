package openplatform

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// authorizeAccount runs pre_auth_code → approval → query_auth for appID
// and returns the refresh token the platform issued.
func authorizeAccount(t *testing.T, c *Component, p *fakePlatform, appID string) string {
	t.Helper()
	pre, err := c.PreAuthCode(t.Context())
	if err != nil {
		t.Fatalf("PreAuthCode = %v", err)
	}
	if _, err := c.QueryAuth(t.Context(), p.authorize(pre.Code, appID)); err != nil {
		t.Fatalf("QueryAuth = %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshTokens[appID]
}

// TestRefreshTokenStoredEncrypted reads the authorizer store directly: it
// holds no plaintext refresh token, only a ciphertext that opens with the
// key and for its own (component, authorizer) pair alone.
func TestRefreshTokenStoredEncrypted(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	raw := &memAuthorizers{}
	key := bytes.Repeat([]byte{3}, 32)
	aead, _ := NewRefreshTokenCipher(key)
	c, logs := newTestComponent(t, p, clock, WithAuthorizers(raw), WithRefreshTokenCipher(aead))
	seedTicket(t, c, p)
	rt := authorizeAccount(t, c, p, testAuthorizer)

	a, err := raw.Authorizer(t.Context(), testComponent, testAuthorizer)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.RefreshToken) == 0 || bytes.Contains(a.RefreshToken, []byte(rt)) || bytes.Contains(a.RefreshToken, []byte("refreshtoken@@@")) {
		t.Fatalf("stored refresh token %q holds the plaintext %q", a.RefreshToken, rt)
	}
	if got, err := openRefreshToken(aead, testComponent, testAuthorizer, a.RefreshToken); err != nil || got != rt {
		t.Errorf("opening the stored refresh token = %q, %v; want %q", got, err, rt)
	}
	other, _ := NewRefreshTokenCipher(bytes.Repeat([]byte{4}, 32))
	for _, tt := range []struct {
		name             string
		aead             cipher.AEAD
		component, appID string
		sealed           []byte
	}{
		{"another key", other, testComponent, testAuthorizer, a.RefreshToken},
		{"another authorizer's row", aead, testComponent, "wxanother", a.RefreshToken},
		{"another component's row", aead, "wxothercomponent", testAuthorizer, a.RefreshToken},
		{"tampered", aead, testComponent, testAuthorizer, flipLast(a.RefreshToken)},
		{"truncated", aead, testComponent, testAuthorizer, a.RefreshToken[:10]},
		{"unknown version", aead, testComponent, testAuthorizer, append([]byte{9}, a.RefreshToken[1:]...)},
	} {
		if got, err := openRefreshToken(tt.aead, tt.component, tt.appID, tt.sealed); !errors.Is(err, errSealed) {
			t.Errorf("%s: openRefreshToken = %q, %v; want errSealed", tt.name, got, err)
		}
	}
	// Two seals of one token differ (random nonce).
	if bytes.Equal(sealRefreshToken(aead, testComponent, testAuthorizer, rt), sealRefreshToken(aead, testComponent, testAuthorizer, rt)) {
		t.Error("two seals of the same refresh token are equal: the nonce is not random")
	}
	// Nothing the Component returns or logs carries it.
	list, _ := c.Authorizers(t.Context())
	one, _ := c.Authorizer(t.Context(), testAuthorizer)
	if len(list) != 1 || len(list[0].RefreshToken) != 0 || len(one.RefreshToken) != 0 {
		t.Errorf("Authorizers()/Authorizer() expose the refresh token ciphertext")
	}
	noSecrets(t, "the log", logs.String(), rt)

	// A Component with another key cannot use the stored token, and says
	// why.
	c2, _ := newTestComponent(t, p, clock, WithAuthorizers(raw), WithRefreshTokenCipher(other), WithTokenStore(&token.MemoryStore{Now: clock.Now}))
	seedTicket(t, c2, p)
	_, err = c2.AuthorizerTokenSource(testAuthorizer).Token(t.Context())
	if !errors.Is(err, errSealed) {
		t.Errorf("Token with the wrong key = %v, want errSealed", err)
	}
}

func flipLast(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 1
	return c
}

// TestRefreshTokenInvalid: when the platform answers 61023, the error
// says the account must authorize again, and matches ErrReauthorize and
// the errcode.
func TestRefreshTokenInvalid(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	c, logs := newTestComponent(t, p, clock)
	seedTicket(t, c, p)
	rt := authorizeAccount(t, c, p, testAuthorizer)
	clock.Advance(2 * time.Hour) // the first token expires
	seedTicket(t, c, p)
	p.mu.Lock()
	p.refreshTokens[testAuthorizer] = "revoked-by-the-platform"
	p.mu.Unlock()

	client, err := c.MPClient(testAuthorizer)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.AccessToken(t.Context())
	if !errors.Is(err, ErrReauthorize) || !errors.Is(err, ErrRefreshTokenInvalid) {
		t.Fatalf("AccessToken = %v, want ErrReauthorize and errcode 61023", err)
	}
	for _, want := range []string{testAuthorizer, "must authorize the component again", "61023"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	noSecrets(t, "the error", err.Error(), rt, "revoked-by-the-platform")
	noSecrets(t, "the log", logs.String(), rt)
}

// TestRefreshTokenRotation: a refresh reply with a new refresh token
// replaces the stored one, and the next refresh uses it.
func TestRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	c, _ := newTestComponent(t, p, clock)
	seedTicket(t, c, p)
	first := authorizeAccount(t, c, p, testAuthorizer)
	p.mu.Lock()
	p.rotateRefresh = true
	p.mu.Unlock()
	for i := range 3 {
		clock.Advance(2 * time.Hour)
		seedTicket(t, c, p)
		if _, err := c.AuthorizerTokenSource(testAuthorizer).Token(t.Context()); err != nil {
			t.Fatalf("refresh %d: Token = %v", i, err)
		}
	}
	stored, err := (refreshTokens{c, testAuthorizer}).RefreshToken(t.Context())
	p.mu.Lock()
	current := p.refreshTokens[testAuthorizer]
	p.mu.Unlock()
	if err != nil || stored != current || stored == first {
		t.Errorf("stored refresh token = %q, %v; want the platform's latest %q", stored, err, current)
	}
}

// TestActingForUnknownAuthorizer: an account that never authorized.
func TestActingForUnknownAuthorizer(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	c, _ := newTestComponent(t, p, clock)
	seedTicket(t, c, p)
	if _, err := c.AuthorizerTokenSource("wxnever").Token(t.Context()); !errors.Is(err, ErrNotAuthorizer) {
		t.Errorf("Token for an unknown authorizer = %v, want ErrNotAuthorizer", err)
	}
	if _, err := c.Authorizer(t.Context(), "wxnever"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Authorizer(wxnever) = %v, want store.ErrNotFound", err)
	}
	if _, err := c.MPClient(""); err == nil {
		t.Error("MPClient(\"\") = nil error")
	}
	if _, err := c.QueryAuth(t.Context(), ""); err == nil {
		t.Error("QueryAuth(\"\") = nil error")
	}
	if _, err := c.AuthorizerInfo(t.Context(), ""); err == nil {
		t.Error("AuthorizerInfo(\"\") = nil error")
	}
	if a, b := c.AuthorizerTokenSource(testAuthorizer), c.AuthorizerTokenSource(testAuthorizer); a != b {
		t.Error("AuthorizerTokenSource returns a new Source on each call")
	}
}
