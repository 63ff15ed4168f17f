package token

import (
	"log/slog"
	"time"

	"github.com/wxkit/wxkit"
)

// Token is an access_token or a jsapi_ticket (one type covers both) with the
// instant it stops being accepted. A zero Expiry means the token does not
// expire.
//
// Value is a secret: Token's String and LogValue print it redacted, so a
// *Token is safe to pass to fmt and log/slog.
type Token struct {
	Value  string
	Expiry time.Time
}

// Valid reports whether t is non-nil, has a Value, and has not expired at
// time.Now().
func (t *Token) Valid() bool { return t.validAt(time.Now()) }

// validAt reports whether t is usable at now.
func (t *Token) validAt(now time.Time) bool {
	return t != nil && t.Value != "" && (t.Expiry.IsZero() || now.Before(t.Expiry))
}

// freshAt reports whether t is usable at now with at least delta to spare.
func (t *Token) freshAt(now time.Time, delta time.Duration) bool {
	return t != nil && t.Value != "" && (t.Expiry.IsZero() || now.Add(delta).Before(t.Expiry))
}

// String returns a redacted form, "token(abcd***, expires 2006-01-02T15:04:05Z)".
func (t *Token) String() string {
	if t == nil {
		return "token(nil)"
	}
	if t.Expiry.IsZero() {
		return "token(" + wxkit.Redact(t.Value) + ")"
	}
	return "token(" + wxkit.Redact(t.Value) + ", expires " + t.Expiry.UTC().Format(time.RFC3339) + ")"
}

// LogValue implements slog.LogValuer: a group with the redacted value and
// the expiry.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(
		slog.String("value", wxkit.Redact(t.Value)),
		slog.Time("expiry", t.Expiry),
	)
}

// Kind names what a token is, as the central token service spells it in its
// type query parameter.
type Kind string

// Kinds of token.
const (
	KindAccessToken Kind = "access_token"
	KindJSAPITicket Kind = "jsapi_ticket"
)

// AccessTokenKey returns the Store key of appID's access_token,
// "wxkit:access_token:<appid>".
func AccessTokenKey(appID string) string { return "wxkit:access_token:" + appID }

// JSAPITicketKey returns the Store key of appID's jsapi_ticket,
// "wxkit:jsapi_ticket:<appid>".
func JSAPITicketKey(appID string) string { return "wxkit:jsapi_ticket:" + appID }

// Key returns the Store key of appID's token of kind k,
// "wxkit:<kind>:<appid>".
func Key(k Kind, appID string) string { return "wxkit:" + string(k) + ":" + appID }
