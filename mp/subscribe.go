package mp

import "context"

// SubscribeService sends subscription notifications (订阅通知), the
// successor of template messages for accounts that use the new
// subscription templates.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_sendnewsubscribemsg.html
type SubscribeService service

// Subscribe returns the service for the subscription-notification
// endpoints: sending (bizsend) and the account's templates
// (wxaapi/newtmpl/..., in subscribe_template.go).
func (c *Client) Subscribe() *SubscribeService { return (*SubscribeService)(&c.common) }

// SubscribeValue is one keyword value of a subscription notification
// ({"value": "..."}). Each keyword kind has its own rules (thing: at most
// 20 characters; number: digits; time: a date-time, ...).
type SubscribeValue struct {
	Value string `json:"value"`
}

// SubscribeSendRequest is a subscription notification. Page is the web page
// or, with MiniProgram, the Mini Program page the card opens (optional).
type SubscribeSendRequest struct {
	ToUser      string                    `json:"touser"`
	TemplateID  string                    `json:"template_id"`
	Page        string                    `json:"page,omitempty"`
	MiniProgram *MiniProgramLink          `json:"miniprogram,omitempty"`
	Data        map[string]SubscribeValue `json:"data"`
}

// Send sends a subscription notification (cgi-bin/message/subscribe/bizsend)
// to a user who accepted the template (the account is pushed
// subscribe_msg_popup_event with SubscribeStatusString "accept"); each
// acceptance of a one-time template allows one message. The account is
// pushed subscribe_msg_sent_event (TemplateId, MsgID, ErrorCode,
// ErrorStatus) once the message is delivered. Errors: 40003 (invalid
// touser), 40037 (invalid template_id), 43101 (the user has not accepted
// the template, rejected it or used the acceptance up), 47003 (a value
// breaks its keyword's rules), 48001 (a Mini Program: use its
// subscribe/send).
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_sendnewsubscribemsg.html
func (s *SubscribeService) Send(ctx context.Context, msg *SubscribeSendRequest, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/message/subscribe/bizsend", msg)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}
