package mp

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/wxkit/wxkit"
)

// MassService sends mass messages (群发): one message to every follower, to
// the followers with a tag, or to a list of OpenIDs. The platform answers
// at once with a job id; the job then runs, and its outcome arrives as a
// MASSSENDJOBFINISH event at the account's server (message.EventTypeMassSendJobFinish,
// with TotalCount, FilterCount, SentCount and ErrorCount).
//
// A subscription account may mass send once a day, a service account four
// times a month (45028 beyond); mass/send by OpenID list is for verified
// service accounts only, and unverified accounts get 48001 throughout.
// Its sending methods are not retried on errcode -1, which can follow a
// job that started; give the message a ClientMsgID, so that a repeat within
// 24 hours is refused with 45065 instead of sent twice (and wait a minute
// between repeats: 45066 sooner).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
type MassService service

// Mass returns the service for the mass-message endpoints.
func (c *Client) Mass() *MassService { return (*MassService)(&c.common) }

// MassMsgType is the msgtype of a mass message.
type MassMsgType string

// The mass message types.
const (
	MassMsgTypeMPNews  MassMsgType = "mpnews"  // MPNews: a draft or news material
	MassMsgTypeText    MassMsgType = "text"    // Text
	MassMsgTypeVoice   MassMsgType = "voice"   // Voice
	MassMsgTypeImage   MassMsgType = "image"   // Images
	MassMsgTypeMPVideo MassMsgType = "mpvideo" // MPVideo
	MassMsgTypeWXCard  MassMsgType = "wxcard"  // WXCard
)

// MassMessage is the message part of a mass send. Exactly the field named
// by MsgType is set.
type MassMessage struct {
	MsgType MassMsgType `json:"msgtype"`
	MPNews  *MassMedia  `json:"mpnews,omitempty"`
	Text    *MassText   `json:"text,omitempty"`
	Voice   *MassMedia  `json:"voice,omitempty"`
	Images  *MassImages `json:"images,omitempty"`
	MPVideo *MassMedia  `json:"mpvideo,omitempty"`
	WXCard  *MassCard   `json:"wxcard,omitempty"`
	// SendIgnoreReprint, for mpnews judged a reprint: 1 sends anyway, 0
	// stops the job (the default).
	SendIgnoreReprint int `json:"send_ignore_reprint,omitempty"`
	// ClientMsgID, at most 64 bytes, makes the send idempotent: a second
	// send with the same ClientMsgID within 24 hours gives 45065 (the
	// platform names the first job's msg_id in the answer), or 45066
	// ("重试速度过快，请间隔1分钟重试") when it comes within a minute of the
	// previous attempt. 45067 when too long.
	ClientMsgID string `json:"clientmsgid,omitempty"`
}

// MassMedia names a media_id: of a draft or news material (mpnews), of a
// voice material, or of a video prepared for mass sending (mpvideo).
type MassMedia struct {
	MediaID string `json:"media_id"`
}

// MassText is a text message (at most 2048 bytes).
type MassText struct {
	Content string `json:"content"`
}

// MassImages are up to 20 image media_ids, sent as one image message.
type MassImages struct {
	MediaIDs           []string `json:"media_ids"`
	Recommend          string   `json:"recommend,omitempty"`
	NeedOpenComment    int      `json:"need_open_comment,omitempty"`
	OnlyFansCanComment int      `json:"only_fans_can_comment,omitempty"`
}

// MassCard is a card (卡券) by its card_id.
type MassCard struct {
	CardID string `json:"card_id"`
}

// MassFilter chooses the recipients of SendAll: everyone (IsToAll) or the
// followers with TagID.
type MassFilter struct {
	IsToAll bool `json:"is_to_all"`
	TagID   int  `json:"tag_id,omitempty"`
}

// MassResult is the answer of a mass send: the job's MsgID and, for
// mpnews, the MsgDataID of the sent articles (used by the data APIs).
type MassResult struct {
	MsgID     int64 `json:"msg_id"`
	MsgDataID int64 `json:"msg_data_id,omitempty"`
}

// SendAll starts a mass send to everyone (filter.IsToAll) or to the
// followers with filter.TagID. Users who do not follow the account or
// whom it blacklisted are left out (FilterCount of MASSSENDJOBFINISH).
// Errors: 48001 (the account may not mass send), 40050 (no such tag),
// 45028 (no mass quota left), 45065 (ClientMsgID used within 24 hours:
// the MassResult is returned with the error and names that job's MsgID),
// 45066 (ClientMsgID repeated within a minute of the previous attempt;
// retry after a minute), 45067 (ClientMsgID over 64 bytes), 40007
// (unknown media_id), 40008 (msgtype), 44004 (empty text), 45002 (text too
// long), 40073 (card_id).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (s *MassService) SendAll(ctx context.Context, filter MassFilter, msg *MassMessage, opts ...CallOption) (*MassResult, error) {
	body := struct {
		Filter MassFilter `json:"filter"`
		*MassMessage
	}{filter, msg}
	return s.send(ctx, "cgi-bin/message/mass/sendall", &body, opts)
}

// Send starts a mass send to 2 to 10000 OpenIDs (40130 for fewer, 40032
// for more; 40003 for an OpenID not of the account). Verified service
// accounts only (48001). Other errors as SendAll.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (s *MassService) Send(ctx context.Context, toUsers []string, msg *MassMessage, opts ...CallOption) (*MassResult, error) {
	body := struct {
		ToUser []string `json:"touser"`
		*MassMessage
	}{toUsers, msg}
	return s.send(ctx, "cgi-bin/message/mass/send", &body, opts)
}

func (s *MassService) send(ctx context.Context, path string, body any, opts []CallOption) (*MassResult, error) {
	req, err := s.client.NewRequest(ctx, "POST", path, body)
	if err != nil {
		return nil, err
	}
	res := new(MassResult)
	if err := s.client.Do(req, res, opts...); err != nil {
		// 45065: the job of this clientmsgid exists; its msg_id comes with
		// the error, so that a caller can follow it with Get.
		if e, ok := errors.AsType[*wxkit.APIError](err); ok && e.ErrCode == 45065 && res.MsgID != 0 {
			return &MassResult{MsgID: res.MsgID}, err
		}
		return nil, err
	}
	return res, nil
}

// Preview sends msg to one follower at once, to check it before a mass
// send (100 a day; it uses no mass quota). toUser is an OpenID. Errors:
// 40003 (no such user), 43004 (the user does not follow), and those of
// the message.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (s *MassService) Preview(ctx context.Context, toUser string, msg *MassMessage, opts ...CallOption) (int64, error) {
	body := struct {
		ToUser string `json:"touser"`
		*MassMessage
	}{toUser, msg}
	res, err := s.send(ctx, "cgi-bin/message/mass/preview", &body, opts)
	if err != nil {
		return 0, err
	}
	return res.MsgID, nil
}

// Delete withdraws a sent mpnews or mpvideo job: its article pages stop
// working (users keep the card). articleIdx is the article to delete,
// from 1; 0 deletes them all. Errors: 40035 (unknown msg_id, or a job of
// another type).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (s *MassService) Delete(ctx context.Context, msgID int64, articleIdx int, opts ...CallOption) error {
	body := struct {
		MsgID      int64 `json:"msg_id"`
		ArticleIdx int   `json:"article_idx,omitempty"`
	}{msgID, articleIdx}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/message/mass/delete", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// MassStatus is the state of a mass job.
type MassStatus string

// The states of a mass job.
const (
	MassStatusSending MassStatus = "SENDING"
	MassStatusSuccess MassStatus = "SEND_SUCCESS"
	MassStatusFail    MassStatus = "SEND_FAIL"
	MassStatusDeleted MassStatus = "DELETE"
)

// Get returns the state of the job msgID. Errors: 40035 (unknown msg_id).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (s *MassService) Get(ctx context.Context, msgID int64) (MassStatus, error) {
	body := struct {
		MsgID string `json:"msg_id"`
	}{strconv.FormatInt(msgID, 10)}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/message/mass/get", &body)
	if err != nil {
		return "", err
	}
	var v struct {
		MsgID     json.Number `json:"msg_id"`
		MsgStatus MassStatus  `json:"msg_status"`
	}
	if err := s.client.Do(req, &v, Idempotent()); err != nil {
		return "", err
	}
	return v.MsgStatus, nil
}

// MassSpeed is the mass-send speed: Speed is the level 0 (fastest) to 4,
// RealSpeed the speed it stands for in 10k messages a minute (80, 60, 45,
// 30, 10).
type MassSpeed struct {
	Speed     int `json:"speed"`
	RealSpeed int `json:"realspeed"`
}

// GetSpeed returns the mass-send speed.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (s *MassService) GetSpeed(ctx context.Context) (*MassSpeed, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/message/mass/speed/get", struct{}{})
	if err != nil {
		return nil, err
	}
	v := new(MassSpeed)
	if err := s.client.Do(req, v, Idempotent()); err != nil {
		return nil, err
	}
	return v, nil
}

// SetSpeed sets the mass-send speed level, 0 to 4 (45083 otherwise).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (s *MassService) SetSpeed(ctx context.Context, speed int) error {
	body := struct {
		Speed int `json:"speed"`
	}{speed}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/message/mass/speed/set", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, Idempotent())
}
