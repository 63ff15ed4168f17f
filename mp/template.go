package mp

import (
	"context"
)

// TemplateService handles template messages (模板消息): sending, the
// account's private templates and its industry (template_industry.go).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
type TemplateService service

// Template returns the service for the template-message endpoints.
func (c *Client) Template() *TemplateService { return (*TemplateService)(&c.common) }

// TemplateValue is one keyword of a template message. Color ("#173177") is
// ignored by current WeChat clients but still accepted.
type TemplateValue struct {
	Value string `json:"value"`
	Color string `json:"color,omitempty"`
}

// MiniProgramLink makes a message open a Mini Program page (AppID must be
// linked to the account).
type MiniProgramLink struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath,omitempty"`
}

// TemplateSendRequest is a template message. Data maps the template's
// keywords ("thing1", "time2", ... or the old "first", "keyword1",
// "remark") to values. URL and MiniProgram are optional; MiniProgram wins
// when both are set. ClientMsgID makes the send idempotent.
type TemplateSendRequest struct {
	ToUser      string                   `json:"touser"`
	TemplateID  string                   `json:"template_id"`
	URL         string                   `json:"url,omitempty"`
	MiniProgram *MiniProgramLink         `json:"miniprogram,omitempty"`
	ClientMsgID string                   `json:"client_msg_id,omitempty"`
	Data        map[string]TemplateValue `json:"data"`
}

// Send sends a template message and returns its msgid. The account is
// pushed TEMPLATESENDJOBFINISH later with that MsgID and Status "success",
// "failed:user block" (the user refuses the account's messages) or
// "failed: system failed". Errors: 40037 (invalid template_id), 40003
// (OpenID not of this account), 43004 (the user does not follow the
// account), 45009 (daily quota,
// 100000 and more with the follower count), 48001 (a Mini Program).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (s *TemplateService) Send(ctx context.Context, msg *TemplateSendRequest, opts ...CallOption) (int64, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/message/template/send", msg)
	if err != nil {
		return 0, err
	}
	var res struct {
		MsgID int64 `json:"msgid"`
	}
	if err := s.client.Do(req, &res, opts...); err != nil {
		return 0, err
	}
	return res.MsgID, nil
}

// Template is one of the account's private templates.
type Template struct {
	TemplateID      string `json:"template_id"`
	Title           string `json:"title"`
	PrimaryIndustry string `json:"primary_industry"`
	DeputyIndustry  string `json:"deputy_industry"`
	// Content is the template text with {{keyword.DATA}} placeholders.
	Content string `json:"content"`
	Example string `json:"example"`
}

// ListPrivate returns the templates added to the account.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (s *TemplateService) ListPrivate(ctx context.Context) ([]Template, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/template/get_all_private_template", nil)
	if err != nil {
		return nil, err
	}
	var res struct {
		Templates []Template `json:"template_list"`
	}
	if err := s.client.Do(req, &res, Idempotent()); err != nil {
		return nil, err
	}
	return res.Templates, nil
}

// Delete removes the private template templateID. An unknown template gives
// 40037 (invalid template_id).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (s *TemplateService) Delete(ctx context.Context, templateID string, opts ...CallOption) error {
	body := struct {
		TemplateID string `json:"template_id"`
	}{templateID}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/template/del_private_template", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}
