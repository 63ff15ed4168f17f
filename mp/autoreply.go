package mp

import (
	"context"

	"github.com/wxkit/wxkit"
)

// AutoReplyService reads the automatic replies (自动回复) set up for the
// account on the mp.weixin.qq.com website. The platform stops using them
// while the account's server configuration (the push URL) is enabled; the
// API still reports them.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Getting_Rules_for_Auto_Replies.html
type AutoReplyService service

// AutoReply returns the service for the automatic-reply settings.
func (c *Client) AutoReply() *AutoReplyService { return (*AutoReplyService)(&c.common) }

// AutoReplyType is the type of an automatic reply or keyword.
type AutoReplyType string

// The reply types. Follow and default replies are text, img, voice or
// video; keyword replies may also be news.
const (
	AutoReplyTypeText  AutoReplyType = "text"  // Content is the text
	AutoReplyTypeImage AutoReplyType = "img"   // Content is a media_id
	AutoReplyTypeVoice AutoReplyType = "voice" // Content is a media_id
	AutoReplyTypeVideo AutoReplyType = "video" // Content is a URL of the video
	AutoReplyTypeNews  AutoReplyType = "news"  // NewsInfo holds the articles
)

// AutoReplyInfo is the account's automatic replies
// (get_current_autoreply_info).
type AutoReplyInfo struct {
	// IsAddFriendReplyOpen is 1 when new followers get AddFriendReply.
	IsAddFriendReplyOpen int `json:"is_add_friend_reply_open"`
	// IsAutoReplyOpen is 1 when messages get automatic replies
	// (MessageDefaultReply and the keyword rules).
	IsAutoReplyOpen int `json:"is_autoreply_open"`
	// AddFriendReply is the reply to a new follower (被关注回复).
	AddFriendReply *AutoReply `json:"add_friend_autoreply_info,omitempty"`
	// MessageDefaultReply is the reply to a message no keyword matches
	// (收到消息回复).
	MessageDefaultReply *AutoReply `json:"message_default_autoreply_info,omitempty"`
	// KeywordReplies holds the keyword rules (关键词回复).
	KeywordReplies *KeywordAutoReplyList `json:"keyword_autoreply_info,omitempty"`
}

// AddFriendReplyOpen reports whether new followers get an automatic reply.
func (i *AutoReplyInfo) AddFriendReplyOpen() bool { return i.IsAddFriendReplyOpen == 1 }

// AutoReplyOpen reports whether messages get automatic replies.
func (i *AutoReplyInfo) AutoReplyOpen() bool { return i.IsAutoReplyOpen == 1 }

// AutoReply is one automatic reply.
type AutoReply struct {
	Type AutoReplyType `json:"type"`
	// Content is the text, media_id or video URL (see AutoReplyType).
	Content string `json:"content,omitempty"`
	// NewsInfo is {"list":[...]} for a news reply.
	NewsInfo *SelfMenuNewsList `json:"news_info,omitempty"`
}

// KeywordAutoReplyList is the {"list":[...]} wrapper of the keyword rules.
type KeywordAutoReplyList struct {
	List []KeywordAutoReplyRule `json:"list"`
}

// KeywordAutoReplyRule is a keyword rule: a message matching one of
// Keywords gets every reply (ReplyMode reply_all) or one of them at random
// (random_one).
type KeywordAutoReplyRule struct {
	RuleName   string             `json:"rule_name"`
	CreateTime wxkit.Timestamp    `json:"create_time"`
	ReplyMode  string             `json:"reply_mode"`
	Keywords   []AutoReplyKeyword `json:"keyword_list_info"`
	Replies    []AutoReply        `json:"reply_list_info"`
}

// AutoReplyKeyword is a keyword of a rule; MatchMode is contain or equal.
type AutoReplyKeyword struct {
	Type      AutoReplyType `json:"type"`
	MatchMode string        `json:"match_mode"`
	Content   string        `json:"content"`
}

// Get returns the account's automatic-reply settings.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Getting_Rules_for_Auto_Replies.html
func (s *AutoReplyService) Get(ctx context.Context) (*AutoReplyInfo, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/get_current_autoreply_info", nil)
	if err != nil {
		return nil, err
	}
	info := new(AutoReplyInfo)
	if err := s.client.Do(req, info, Idempotent()); err != nil {
		return nil, err
	}
	return info, nil
}
