package mp

import "context"

// CustomerServiceService sends customer-service messages (客服消息): messages
// to a user outside the 5-second passive-reply window. WeChat accepts them
// only within 48 hours of the user's last interaction with the account
// (message, menu click, follow, scan, ...), else 45015, and at most 20 per
// interaction, else 45047.
//
// Its methods are not retried on errcode -1 (system error), which can
// follow a delivered message; pass RetryUnsafe to accept a duplicate.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
type CustomerServiceService service

// CustomerService returns the service for the customer-service message endpoints.
func (c *Client) CustomerService() *CustomerServiceService {
	return (*CustomerServiceService)(&c.common)
}

// CustomMsgType is the msgtype of a customer-service message.
type CustomMsgType string

// The customer-service message types this package sends.
const (
	CustomMsgTypeText            CustomMsgType = "text"
	CustomMsgTypeImage           CustomMsgType = "image"
	CustomMsgTypeNews            CustomMsgType = "news"
	CustomMsgTypeMiniProgramPage CustomMsgType = "miniprogrampage"
)

// CustomMessage is a customer-service message. Exactly the field named by
// MsgType is set. CustomService sends it as a given customer-service
// account (kf_account) instead of the default one.
type CustomMessage struct {
	ToUser          string                 `json:"touser"`
	MsgType         CustomMsgType          `json:"msgtype"`
	Text            *CustomText            `json:"text,omitempty"`
	Image           *CustomMedia           `json:"image,omitempty"`
	News            *CustomNews            `json:"news,omitempty"`
	MiniProgramPage *CustomMiniProgramPage `json:"miniprogrampage,omitempty"`
	CustomService   *CustomServiceAccount  `json:"customservice,omitempty"`
}

// CustomText is the body of a text message.
type CustomText struct {
	Content string `json:"content"`
}

// CustomMedia is the body of an image (voice, ...) message: a media_id from
// MediaService.Upload or a permanent material.
type CustomMedia struct {
	MediaID string `json:"media_id"`
}

// CustomNews is the body of a news message: WeChat shows one article
// (a link card); extra articles are refused.
type CustomNews struct {
	Articles []CustomArticle `json:"articles"`
}

// CustomArticle is one article of a news message.
type CustomArticle struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url"`
	PicURL      string `json:"picurl,omitempty"`
}

// CustomMiniProgramPage is a Mini Program card. ThumbMediaID is the cover
// (a media_id); the Mini Program must be linked to the account.
type CustomMiniProgramPage struct {
	Title        string `json:"title"`
	AppID        string `json:"appid"`
	PagePath     string `json:"pagepath"`
	ThumbMediaID string `json:"thumb_media_id"`
}

// CustomServiceAccount names the customer-service account that sends a
// message ("kf2001@gh_xxx").
type CustomServiceAccount struct {
	KfAccount string `json:"kf_account"`
}

// Send sends msg. Errors: 45015 (no interaction from the user in 48 hours),
// 45047 (20 messages sent since the user's last interaction), 40003
// (OpenID not of this account), 40007 (invalid media_id).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (s *CustomerServiceService) Send(ctx context.Context, msg *CustomMessage, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/message/custom/send", msg)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// SendText sends a text message (at most 2048 bytes; links may be <a> tags).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (s *CustomerServiceService) SendText(ctx context.Context, toUser, content string, opts ...CallOption) error {
	return s.Send(ctx, &CustomMessage{ToUser: toUser, MsgType: CustomMsgTypeText, Text: &CustomText{Content: content}}, opts...)
}

// SendImage sends the image mediaID (a temporary or permanent media_id).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (s *CustomerServiceService) SendImage(ctx context.Context, toUser, mediaID string, opts ...CallOption) error {
	return s.Send(ctx, &CustomMessage{ToUser: toUser, MsgType: CustomMsgTypeImage, Image: &CustomMedia{MediaID: mediaID}}, opts...)
}

// SendNews sends a link card (one article).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (s *CustomerServiceService) SendNews(ctx context.Context, toUser string, article CustomArticle, opts ...CallOption) error {
	return s.Send(ctx, &CustomMessage{ToUser: toUser, MsgType: CustomMsgTypeNews,
		News: &CustomNews{Articles: []CustomArticle{article}}}, opts...)
}

// SendMiniProgramPage sends a Mini Program card.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (s *CustomerServiceService) SendMiniProgramPage(ctx context.Context, toUser string, page CustomMiniProgramPage, opts ...CallOption) error {
	return s.Send(ctx, &CustomMessage{ToUser: toUser, MsgType: CustomMsgTypeMiniProgramPage, MiniProgramPage: &page}, opts...)
}

// TypingCommand is the command of Typing.
type TypingCommand string

// The two typing commands.
const (
	TypingCommandTyping       TypingCommand = "Typing"
	TypingCommandCancelTyping TypingCommand = "CancelTyping"
)

// Typing shows (TypingCommandTyping, for at most 15 seconds or until the
// next message) or hides (TypingCommandCancelTyping) "typing..." to the
// user. The 48-hour rule applies (45015).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (s *CustomerServiceService) Typing(ctx context.Context, toUser string, command TypingCommand, opts ...CallOption) error {
	body := struct {
		ToUser  string        `json:"touser"`
		Command TypingCommand `json:"command"`
	}{toUser, command}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/message/custom/typing", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}
