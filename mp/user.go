package mp

import (
	"context"
	"fmt"
	"iter"
	"net/url"

	"github.com/wxkit/wxkit"
)

// UserService handles the follower endpoints (用户管理): profiles, the
// follower list and remarks. Tags are in TagService.
type UserService service

// User returns the service for the follower endpoints.
func (c *Client) User() *UserService { return (*UserService)(&c.common) }

// Lang is the language of the place names in a User (lang parameter).
type Lang string

// The languages of User.City, Province and Country.
const (
	LangZhCN Lang = "zh_CN" // simplified Chinese (the default)
	LangZhTW Lang = "zh_TW" // traditional Chinese
	LangEn   Lang = "en"    // English
)

// User is a follower's profile as seen by one account. When Subscribe is 0
// the user does not follow the account and only OpenID (and UnionID) are
// set. WeChat stopped returning Nickname, Sex, City, Province, Country and
// HeadImgURL on 2021-12-27; they are kept for old data and for the emulator.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
type User struct {
	// Subscribe is 1 when the user follows the account, else 0.
	Subscribe  int    `json:"subscribe"`
	OpenID     string `json:"openid"`
	Nickname   string `json:"nickname,omitempty"`
	Sex        int    `json:"sex,omitempty"` // 0 unknown, 1 male, 2 female
	Language   string `json:"language,omitempty"`
	City       string `json:"city,omitempty"`
	Province   string `json:"province,omitempty"`
	Country    string `json:"country,omitempty"`
	HeadImgURL string `json:"headimgurl,omitempty"`
	// SubscribeTime is when the user last followed the account.
	SubscribeTime wxkit.Timestamp `json:"subscribe_time,omitzero"`
	UnionID       string          `json:"unionid,omitempty"`
	Remark        string          `json:"remark,omitempty"`
	GroupID       int             `json:"groupid,omitempty"`
	TagIDs        []int           `json:"tagid_list,omitempty"`
	// SubscribeScene is how the user came: ADD_SCENE_SEARCH,
	// ADD_SCENE_QR_CODE, ADD_SCENE_PROFILE_CARD, ADD_SCENE_OTHERS, ...
	SubscribeScene string `json:"subscribe_scene,omitempty"`
	// QRScene and QRSceneStr are the scene of the QR code the user
	// followed through (SubscribeScene ADD_SCENE_QR_CODE).
	QRScene    int    `json:"qr_scene,omitempty"`
	QRSceneStr string `json:"qr_scene_str,omitempty"`
}

// Subscribed reports whether the user follows the account.
func (u *User) Subscribed() bool { return u.Subscribe == 1 }

// UserGetOptions are the optional parameters of UserService.Get.
type UserGetOptions struct {
	// Lang is the language of the place names; zh_CN when empty.
	Lang Lang
}

// Get returns the profile of the follower openID. An OpenID of another
// account gives wxkit.ErrInvalidOpenID (40003).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
func (s *UserService) Get(ctx context.Context, openID string, opts *UserGetOptions) (*User, error) {
	q := url.Values{"openid": {openID}}
	if opts != nil && opts.Lang != "" {
		q.Set("lang", string(opts.Lang))
	}
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/user/info?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	u := new(User)
	if err := s.client.Do(req, u, Idempotent()); err != nil {
		return nil, err
	}
	return u, nil
}

// MaxBatchGetUsers is the most OpenIDs BatchGet takes in one call.
const MaxBatchGetUsers = 100

// BatchGet returns the profiles of up to 100 followers, in the order of
// openIDs, in language lang (zh_CN when empty). More than 100 OpenIDs give an
// error without a call (WeChat answers 40032 for that).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
func (s *UserService) BatchGet(ctx context.Context, openIDs []string, lang Lang) ([]User, error) {
	if len(openIDs) > MaxBatchGetUsers {
		return nil, fmt.Errorf("mp: User.BatchGet: %d openids, at most %d per call: %w",
			len(openIDs), MaxBatchGetUsers, &wxkit.APIError{ErrCode: 40032, ErrMsg: "invalid openid list size"})
	}
	type item struct {
		OpenID string `json:"openid"`
		Lang   Lang   `json:"lang,omitempty"`
	}
	body := struct {
		UserList []item `json:"user_list"`
	}{UserList: make([]item, len(openIDs))}
	for i, id := range openIDs {
		body.UserList[i] = item{OpenID: id, Lang: lang}
	}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/user/info/batchget", &body)
	if err != nil {
		return nil, err
	}
	var res struct {
		Users []User `json:"user_info_list"`
	}
	if err := s.client.Do(req, &res, Idempotent()); err != nil { // a POST that only reads
		return nil, err
	}
	return res.Users, nil
}

// UserList is one page of followers (up to 10000 OpenIDs).
type UserList struct {
	// Total is the number of followers of the account.
	Total int `json:"total"`
	// Count is the number of OpenIDs in this page.
	Count int `json:"count"`
	Data  struct {
		OpenIDs []string `json:"openid"`
	} `json:"data"`
	// NextOpenID is the cursor for the next page: the last OpenID of this
	// page, or "" when there are no more.
	NextOpenID string `json:"next_openid"`
}

// List returns the followers after nextOpenID ("" for the first page), up
// to 10000 per page. Use All to walk every page.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Getting_a_User_List.html
func (s *UserService) List(ctx context.Context, nextOpenID string) (*UserList, error) {
	path := "cgi-bin/user/get"
	if nextOpenID != "" {
		path += "?" + url.Values{"next_openid": {nextOpenID}}.Encode()
	}
	req, err := s.client.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return nil, err
	}
	l := new(UserList)
	if err := s.client.Do(req, l, Idempotent()); err != nil {
		return nil, err
	}
	return l, nil
}

// All iterates over the OpenIDs of every follower, calling List page by page
// as the loop asks for more. On an error it yields ("", err) once and
// stops.
//
//	for openID, err := range client.User.All(ctx) {
//		if err != nil {
//			return err
//		}
//		...
//	}
func (s *UserService) All(ctx context.Context) iter.Seq2[string, error] {
	return openIDPages(ctx, func(next string) ([]string, string, error) {
		page, err := s.List(ctx, next)
		if err != nil {
			return nil, "", err
		}
		return page.Data.OpenIDs, page.NextOpenID, nil
	})
}

// UpdateRemark sets the remark (备注名) of the follower openID; "" clears
// it. WeChat wants fewer than 30 bytes; the errcode for a longer remark is
// undocumented (the emulator answers 40035, invalid args size).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Configuring_user_notes.html
func (s *UserService) UpdateRemark(ctx context.Context, openID, remark string, opts ...CallOption) error {
	body := struct {
		OpenID string `json:"openid"`
		Remark string `json:"remark"`
	}{openID, remark}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/user/info/updateremark", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}
