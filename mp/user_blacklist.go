package mp

import (
	"context"
	"fmt"
	"iter"

	"github.com/wxkit/wxkit"
)

// MaxBlacklistOpenIDs is the most OpenIDs Blacklist and Unblacklist take in
// one call ("一次最多拉黑20个用户"); more give 40032.
const MaxBlacklistOpenIDs = 20

// BlacklistPage is one page of the account's blacklist (黑名单), up to
// 10000 OpenIDs.
type BlacklistPage struct {
	// Total is the number of blacklisted users.
	Total int `json:"total"`
	// Count is the number of OpenIDs in this page.
	Count int `json:"count"`
	Data  struct {
		OpenIDs []string `json:"openid"`
	} `json:"data"`
	// NextOpenID is the cursor of the next page (the last OpenID of this
	// page), "" once a page is empty.
	NextOpenID string `json:"next_openid"`
}

// GetBlacklist returns the blacklisted users after beginOpenID ("" for the
// first page), up to 10000 per page. Use AllBlacklisted to walk every
// page. Errors: 40003 (beginOpenID is not on the blacklist), 49003 (an
// OpenID of another account).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Manage_blacklist.html
func (s *UserService) GetBlacklist(ctx context.Context, beginOpenID string) (*BlacklistPage, error) {
	body := struct {
		BeginOpenID string `json:"begin_openid"`
	}{beginOpenID}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/tags/members/getblacklist", &body)
	if err != nil {
		return nil, err
	}
	p := new(BlacklistPage)
	if err := s.client.Do(req, p, Idempotent()); err != nil { // a POST that only reads
		return nil, err
	}
	return p, nil
}

// AllBlacklisted iterates over the OpenIDs of every blacklisted user,
// calling GetBlacklist page by page as the loop asks for more. On an error
// it yields ("", err) once and stops.
func (s *UserService) AllBlacklisted(ctx context.Context) iter.Seq2[string, error] {
	return openIDPages(ctx, func(next string) ([]string, string, error) {
		page, err := s.GetBlacklist(ctx, next)
		if err != nil {
			return nil, "", err
		}
		return page.Data.OpenIDs, page.NextOpenID, nil
	})
}

// Blacklist puts up to 20 users on the account's blacklist (拉黑): the
// account no longer receives their messages and they receive no mass
// messages. Errors: 40032 (no OpenID or more than 20; more than 20 are
// refused before the call), 40003 (an OpenID not of this account).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Manage_blacklist.html
func (s *UserService) Blacklist(ctx context.Context, openIDs []string, opts ...CallOption) error {
	return s.blacklistBatch(ctx, "Blacklist", "cgi-bin/tags/members/batchblacklist", openIDs, opts)
}

// Unblacklist takes up to 20 users off the blacklist (取消拉黑), with the
// errors of Blacklist.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Manage_blacklist.html
func (s *UserService) Unblacklist(ctx context.Context, openIDs []string, opts ...CallOption) error {
	return s.blacklistBatch(ctx, "Unblacklist", "cgi-bin/tags/members/batchunblacklist", openIDs, opts)
}

func (s *UserService) blacklistBatch(ctx context.Context, method, path string, openIDs []string, opts []CallOption) error {
	if len(openIDs) > MaxBlacklistOpenIDs {
		return fmt.Errorf("mp: User.%s: %d openids, at most %d per call: %w",
			method, len(openIDs), MaxBlacklistOpenIDs, &wxkit.APIError{ErrCode: 40032, ErrMsg: "invalid openid list size"})
	}
	body := struct {
		OpenIDs []string `json:"openid_list"`
	}{openIDs}
	req, err := s.client.NewRequest(ctx, "POST", path, &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}
