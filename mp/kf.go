package mp

import (
	"context"
	"encoding/json"
	"io"
	"net/url"

	"github.com/wxkit/wxkit/internal/wxhttp"
)

// KfAccount is a customer-service account (客服帐号) as getkflist lists
// it. Account is "prefix@wechatid"; WX is the WeChat ID of the bound
// worker, empty until an invitation (InviteWorker) is accepted; InviteWX,
// InviteExpireTime (Unix seconds) and InviteStatus ("waiting", "rejected",
// "expired") describe the last invitation. ID is the worker number,
// which the platform sends as a JSON number (its docs show a string; both
// decode).
type KfAccount struct {
	Account          string      `json:"kf_account"`
	HeadImgURL       string      `json:"kf_headimgurl"`
	ID               json.Number `json:"kf_id"`
	Nickname         string      `json:"kf_nick"`
	WX               string      `json:"kf_wx,omitempty"`
	InviteWX         string      `json:"invite_wx,omitempty"`
	InviteExpireTime int64       `json:"invite_expire_time,omitempty"`
	InviteStatus     string      `json:"invite_status,omitempty"`
}

// KfOnline is a worker who is online: Status 1 (web client), and the
// number of sessions the worker serves (AcceptedCase).
type KfOnline struct {
	Account      string      `json:"kf_account"`
	Status       int         `json:"status"`
	ID           json.Number `json:"kf_id"`
	AcceptedCase int         `json:"accepted_case"`
}

// kfAccountBody is the body of kfaccount/add, update and inviteworker.
type kfAccountBody struct {
	KfAccount string `json:"kf_account"`
	Nickname  string `json:"nickname,omitempty"`
	InviteWX  string `json:"invite_wx,omitempty"`
}

func (s *CustomerServiceService) post(ctx context.Context, path string, body any, v any, opts []CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", path, body)
	if err != nil {
		return err
	}
	return s.client.Do(req, v, opts...)
}

func (s *CustomerServiceService) get(ctx context.Context, path string, v any) error {
	req, err := s.client.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return err
	}
	return s.client.Do(req, v, Idempotent())
}

// AddAccount adds a customer-service account. kfAccount is
// "prefix@wechatid" (a prefix of at most 10 letters, digits or
// underscores, then the account's WeChat ID); nickname has 1 to 16
// characters. Errors: 65404 (kfAccount malformed), 65403 (nickname),
// 65406 (exists), 65405 (100 accounts already), 48001 (the account is not
// verified).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (s *CustomerServiceService) AddAccount(ctx context.Context, kfAccount, nickname string, opts ...CallOption) error {
	return s.post(ctx, "customservice/kfaccount/add", &kfAccountBody{KfAccount: kfAccount, Nickname: nickname}, nil, opts)
}

// UpdateAccount sets the nickname of kfAccount. Errors: 65401 (no such
// account), 65403 (nickname).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (s *CustomerServiceService) UpdateAccount(ctx context.Context, kfAccount, nickname string, opts ...CallOption) error {
	return s.post(ctx, "customservice/kfaccount/update", &kfAccountBody{KfAccount: kfAccount, Nickname: nickname}, nil, opts)
}

// DeleteAccount deletes kfAccount. Errors: 65401 (no such account).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (s *CustomerServiceService) DeleteAccount(ctx context.Context, kfAccount string, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "GET", "customservice/kfaccount/del?kf_account="+url.QueryEscape(kfAccount), nil)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// InviteWorker invites the WeChat user inviteWX (a WeChat ID) to work as
// kfAccount; the user accepts in the WeChat client within 7 days. Errors:
// 65401 (no such account), 65409 (not a WeChat ID), 65412 (the account
// already has a worker), 65411 (an invitation is waiting), 65407 (the
// user already works for the account), 65408 (the user is already
// invited).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (s *CustomerServiceService) InviteWorker(ctx context.Context, kfAccount, inviteWX string, opts ...CallOption) error {
	return s.post(ctx, "customservice/kfaccount/inviteworker", &kfAccountBody{KfAccount: kfAccount, InviteWX: inviteWX}, nil, opts)
}

// maxHeadImage caps the multipart body of UploadHeadImage (the
// documented 5 MB, plus room for the form).
const maxHeadImage = 5<<20 + 64<<10

// UploadHeadImage sets the head image of kfAccount to the image read from
// r, sent as filename: a JPG ("头像图片文件必须是jpg格式"), 640x640
// recommended, at most 5 MB. ListAccounts then gives its address as
// HeadImgURL. Errors: 40005 (not an image of an accepted type, the one
// errcode the docs list); the emulator also answers 65401 (no such
// account), 41005 (no file), 44001 (empty file) and 40009 (over 5 MB),
// which the docs leave open.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (s *CustomerServiceService) UploadHeadImage(ctx context.Context, kfAccount, filename string, r io.Reader, opts ...CallOption) error {
	path := "customservice/kfaccount/uploadheadimg?" + url.Values{"kf_account": {kfAccount}}.Encode()
	req, err := s.client.api.NewMultipartRequest(ctx, path, nil,
		[]wxhttp.FormFile{{Field: "media", FileName: filename, Content: r}}, maxHeadImage)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// ListAccounts returns the customer-service accounts.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (s *CustomerServiceService) ListAccounts(ctx context.Context) ([]KfAccount, error) {
	var v struct {
		List []KfAccount `json:"kf_list"`
	}
	if err := s.get(ctx, "cgi-bin/customservice/getkflist", &v); err != nil {
		return nil, err
	}
	return v.List, nil
}

// ListOnlineAccounts returns the workers who are online.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (s *CustomerServiceService) ListOnlineAccounts(ctx context.Context) ([]KfOnline, error) {
	var v struct {
		List []KfOnline `json:"kf_online_list"`
	}
	if err := s.get(ctx, "cgi-bin/customservice/getonlinekflist", &v); err != nil {
		return nil, err
	}
	return v.List, nil
}

// kfSessionBody is the body of kfsession/create and close.
type kfSessionBody struct {
	KfAccount string `json:"kf_account"`
	OpenID    string `json:"openid"`
}

// CreateSession makes kfAccount serve the user openID; the platform pushes
// kf_create_session. Errors: 65401 (no such account), 40003 (no such
// user), 65415 (the worker is offline), 65414 (another worker serves the
// user).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (s *CustomerServiceService) CreateSession(ctx context.Context, kfAccount, openID string, opts ...CallOption) error {
	return s.post(ctx, "customservice/kfsession/create", &kfSessionBody{kfAccount, openID}, nil, opts)
}

// CloseSession ends the session of kfAccount with openID; the platform
// pushes kf_close_session. Errors: 65401, 40003, 65413 (no such session).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (s *CustomerServiceService) CloseSession(ctx context.Context, kfAccount, openID string, opts ...CallOption) error {
	return s.post(ctx, "customservice/kfsession/close", &kfSessionBody{kfAccount, openID}, nil, opts)
}

// KfSession is a user's customer-service session: the worker serving the
// user and when the session started (Unix seconds). Both are zero when
// the user is in no session.
type KfSession struct {
	KfAccount  string `json:"kf_account"`
	OpenID     string `json:"openid,omitempty"`
	CreateTime int64  `json:"createtime"`
}

// GetSession returns the session of the user openID. Errors: 40003.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (s *CustomerServiceService) GetSession(ctx context.Context, openID string) (*KfSession, error) {
	v := new(KfSession)
	if err := s.get(ctx, "customservice/kfsession/getsession?openid="+url.QueryEscape(openID), v); err != nil {
		return nil, err
	}
	v.OpenID = openID
	return v, nil
}

// ListSessions returns the sessions kfAccount serves (OpenID and
// CreateTime set). Errors: 65401.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (s *CustomerServiceService) ListSessions(ctx context.Context, kfAccount string) ([]KfSession, error) {
	var v struct {
		List []KfSession `json:"sessionlist"`
	}
	if err := s.get(ctx, "customservice/kfsession/getsessionlist?kf_account="+url.QueryEscape(kfAccount), &v); err != nil {
		return nil, err
	}
	for i := range v.List {
		v.List[i].KfAccount = kfAccount
	}
	return v.List, nil
}

// KfWaitCase is a user waiting for a worker, since LatestTime (Unix
// seconds).
type KfWaitCase struct {
	OpenID     string `json:"openid"`
	LatestTime int64  `json:"latest_time"`
}

// ListWaitCases returns the users waiting for a worker (transferred to
// customer service and in no session) and their number.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (s *CustomerServiceService) ListWaitCases(ctx context.Context) ([]KfWaitCase, int, error) {
	var v struct {
		Count int          `json:"count"`
		List  []KfWaitCase `json:"waitcaselist"`
	}
	if err := s.get(ctx, "customservice/kfsession/getwaitcase", &v); err != nil {
		return nil, 0, err
	}
	return v.List, v.Count, nil
}
