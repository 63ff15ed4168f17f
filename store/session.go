package store

import (
	"context"
	"time"
)

// Session is a login session: the holder of the session token (a cookie
// for web login, a Bearer token for Mini Program login) is user OpenID of
// AppID until Expires. User, when set, is a copy of the user at login,
// kept with the session so that a store holding sessions but not users (a
// Redis shared by gateways that keep users in separate databases) can
// still answer who the user is.
type Session struct {
	AppID   string    `json:"appid"`
	OpenID  string    `json:"openid"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	User    *User     `json:"user,omitempty"`
	// SealedSessionKey is a Mini Program login's session_key, sealed
	// (encrypted and authenticated) by the gateway: opaque bytes that the
	// store keeps as given and that are useless without the session's
	// token. Nil for web login.
	SealedSessionKey []byte `json:"sealed_session_key,omitempty"`
}

// Sessions keeps sessions under their id, the random token handed to the
// client. Implementations store only a digest of the id (SHA-256), so that
// a copy of the store holds nothing that can be replayed as a token.
type Sessions interface {
	// CreateSession stores s under id until s.Expires. AppID, OpenID and a
	// non-empty id are required.
	CreateSession(ctx context.Context, id string, s *Session) error
	// Session returns the session of id if it has not expired at now, else
	// ErrNotFound.
	Session(ctx context.Context, id string, now time.Time) (*Session, error)
	// DeleteSession removes the session of id (logout); an unknown id is
	// not an error. Every instance sharing the store stops accepting it.
	DeleteSession(ctx context.Context, id string) error
}

// OAuthStates keeps the nonces of OAuth login states between the redirect
// to WeChat and the callback, each with a small payload (up to 2 KiB), and
// lets each be taken once.
type OAuthStates interface {
	// PutState stores nonce with data until expires. A nonce is random and
	// stored once; storing an existing nonce fails.
	PutState(ctx context.Context, nonce, data string, expires time.Time) error
	// TakeState deletes nonce and returns its data if it was stored and had
	// not expired at now; otherwise (unknown, expired, taken already) it
	// returns ErrNotFound. Of several concurrent calls for one nonce, on
	// any number of processes, exactly one gets the data.
	TakeState(ctx context.Context, nonce string, now time.Time) (string, error)
}
