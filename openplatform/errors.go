package openplatform

import (
	"errors"

	"github.com/wxkit/wxkit"
)

// ErrNoTicket is returned (wrapped) by every component call when no
// component_verify_ticket newer than 12 hours is stored for the component:
// WeChat pushes one every 10 minutes to the authorization event URL, so its
// absence means that pushes do not reach the Component's NotifyServer, or
// are refused there (a wrong token, key or route).
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html
var ErrNoTicket = errors.New("openplatform: no component_verify_ticket received in the last 12 h: check the authorization event URL")

// ErrForeignComponent is returned by the authorization-event handler for a
// push whose <AppId> is not the route's component: it is not acted on, and
// in particular its ticket is not stored (a ticket of another component
// would make every call of this one fail with 61006).
var ErrForeignComponent = errors.New("openplatform: push for another component")

// ErrReauthorize is returned (wrapped, with the platform's *wxkit.APIError
// 61023) when the platform refuses an authorizer's refresh token: only a new
// authorization by the account's administrator gives a new one.
var ErrReauthorize = errors.New("the authorizer_refresh_token is no longer valid: the account's administrator must authorize the component again")

// ErrUnauthorized is returned (wrapped) when acting for an account whose
// administrator cancelled the authorization (an unauthorized event).
var ErrUnauthorized = errors.New("the account cancelled its authorization of the component")

// ErrNotAuthorizer is returned (wrapped) when acting for an account that
// never authorized the component (no stored authorizer).
var ErrNotAuthorizer = errors.New("the account has not authorized the component")

// ErrForeignAuthorizer is returned by the handler of a MessageServer for a
// message whose ToUserName is not the original id (user_name) of the
// route's authorizer: the message was pushed to another account's route.
var ErrForeignAuthorizer = errors.New("openplatform: message for another authorizer")

// Open Platform errcodes that callers branch on, as *wxkit.APIError values
// that match any error with the same errcode under errors.Is.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Return_codes/Return_code_descriptions_new.html
var (
	ErrTicketExpired       = &wxkit.APIError{ErrCode: 61005, ErrMsg: "component ticket is expired"}
	ErrTicketInvalid       = &wxkit.APIError{ErrCode: 61006, ErrMsg: "component ticket is invalid"}
	ErrCodeInvalid         = &wxkit.APIError{ErrCode: 61009, ErrMsg: "code is invalid"}
	ErrCodeExpired         = &wxkit.APIError{ErrCode: 61010, ErrMsg: "code is expired"}
	ErrRefreshTokenInvalid = &wxkit.APIError{ErrCode: 61023, ErrMsg: "refresh_token is invalid"}
)
