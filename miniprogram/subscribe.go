package miniprogram

import (
	"context"
	"fmt"
)

// MiniProgramState is the version of the Mini Program a subscribe message
// opens.
type MiniProgramState string

// The versions of MiniProgramState.
const (
	MiniProgramStateDeveloper MiniProgramState = "developer" // 开发版
	MiniProgramStateTrial     MiniProgramState = "trial"     // 体验版
	MiniProgramStateFormal    MiniProgramState = "formal"    // the released version (default)
)

// Lang is the language of a subscribe message's card.
type Lang string

// The languages of Lang.
const (
	LangZhCN Lang = "zh_CN" // default
	LangEnUS Lang = "en_US"
	LangZhHK Lang = "zh_HK"
	LangZhTW Lang = "zh_TW"
)

// SubscribeValue is the value of one keyword of a subscribe message
// ({"value": "..."}). Each keyword kind has its own rules (thing: at most 20
// characters; number: digits; time: a date-time, ...); a value that breaks
// them is refused with ErrArgumentInvalid (47003).
type SubscribeValue struct {
	Value string `json:"value"`
}

// SubscribeMessage is the body of cgi-bin/message/subscribe/send.
type SubscribeMessage struct {
	// ToUser is the OpenID of the recipient (required).
	ToUser string `json:"touser"`
	// TemplateID is the subscribe message template the user accepted
	// (required).
	TemplateID string `json:"template_id"`
	// Page is the page the card opens, with an optional query
	// ("index?foo=bar"); empty: no page.
	Page string `json:"page,omitempty"`
	// Data holds the values by keyword name ("thing1", "time2", ...).
	Data map[string]SubscribeValue `json:"data"`
	// MiniProgramState is the version the card opens; empty means formal.
	MiniProgramState MiniProgramState `json:"miniprogram_state,omitempty"`
	// Lang is the card's language; empty means zh_CN.
	Lang Lang `json:"lang,omitempty"`
}

// SendSubscribeMessage sends a subscribe message (订阅消息) to a user who
// accepted its template in the Mini Program (POST
// cgi-bin/message/subscribe/send). Errors are *wxkit.APIError:
// ErrUserRefused (43101, the user has not accepted the template, or has
// used up a one-time acceptance), ErrArgumentInvalid (47003, a value breaks
// its keyword's rules), wxkit.ErrInvalidOpenID (40003), 40037 (invalid
// template_id). A message without ToUser or TemplateID is ErrInvalidRequest.
// It is not retried on -1 (system error), unless opts hold RetryUnsafe: the
// platform may have delivered the message.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
func (c *Client) SendSubscribeMessage(ctx context.Context, msg *SubscribeMessage, opts ...CallOption) error {
	if msg == nil || msg.ToUser == "" || msg.TemplateID == "" {
		return fmt.Errorf("%w: SendSubscribeMessage: touser and template_id are required", ErrInvalidRequest)
	}
	req, err := c.api.NewRequest(ctx, "POST", "cgi-bin/message/subscribe/send", msg)
	if err != nil {
		return err
	}
	return c.api.Do(req, nil, wx(opts)...)
}
