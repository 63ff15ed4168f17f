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

// Store keys. Every key starts with "wxkit:" and names what it holds, so
// that an app's own access_token, an Open Platform component's
// component_access_token and an authorizer's access_token for the same
// AppID never share a key. AccessTokenKey and JSAPITicketKey keep the form
// they always had, so that deployments keep their stored tokens across
// upgrades.

// AccessTokenKey returns the Store key of appID's access_token,
// "wxkit:access_token:<appid>".
func AccessTokenKey(appID string) string { return "wxkit:access_token:" + appID }

// JSAPITicketKey returns the Store key of appID's jsapi_ticket,
// "wxkit:jsapi_ticket:<appid>".
func JSAPITicketKey(appID string) string { return "wxkit:jsapi_ticket:" + appID }

// Key returns the Store key of appID's token of kind k,
// "wxkit:<kind>:<appid>".
func Key(k Kind, appID string) string { return "wxkit:" + string(k) + ":" + appID }

// ComponentTokenKey returns the Store key of an Open Platform component's
// component_access_token, "wxkit:component_access_token:<component_appid>".
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html
func ComponentTokenKey(componentAppID string) string {
	return "wxkit:component_access_token:" + componentAppID
}

// ComponentTicketKey returns the Store key of the latest
// component_verify_ticket pushed to a component,
// "wxkit:component_verify_ticket:<component_appid>".
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html
func ComponentTicketKey(componentAppID string) string {
	return "wxkit:component_verify_ticket:" + componentAppID
}

// AuthorizerTokenKey returns the Store key of the authorizer_access_token
// that a component holds for an account that authorized it,
// "wxkit:authorizer_access_token:<component_appid>:<authorizer_appid>".
// Two components authorized by one account keep two tokens.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html
func AuthorizerTokenKey(componentAppID, authorizerAppID string) string {
	return "wxkit:authorizer_access_token:" + componentAppID + ":" + authorizerAppID
}

// AuthorizerJSAPITicketKey returns the Store key of the jsapi_ticket a
// component fetched with an authorizer's access_token,
// "wxkit:authorizer_jsapi_ticket:<component_appid>:<authorizer_appid>".
func AuthorizerJSAPITicketKey(componentAppID, authorizerAppID string) string {
	return "wxkit:authorizer_jsapi_ticket:" + componentAppID + ":" + authorizerAppID
}
