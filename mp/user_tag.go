package mp

import (
	"context"
	"fmt"

	"github.com/wxkit/wxkit"
)

// TagService handles the user-tag endpoints (用户标签管理). An account has
// at most 100 tags of its own besides the system tags 0, 1 and 2 (which
// cannot be changed); a user carries at most 20 tags; a tag name is at most
// 30 bytes and unique in the account.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
type TagService service

// Tag returns the service for the user-tag endpoints.
func (c *Client) Tag() *TagService { return (*TagService)(&c.common) }

// Tag is a user tag. Count (the number of users carrying it) is set by
// List only.
type Tag struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Count int    `json:"count,omitempty"`
}

// Tag limits of the platform.
const (
	MaxTagNameBytes = 30  // a longer name gives 45158
	MaxTags         = 100 // one more gives 45056
	MaxTagOpenIDs   = 50  // OpenIDs per TagUsers/UntagUsers call; more gives 40032
)

// tagBody is the {"tag":{...}} envelope of the tag APIs.
type tagBody struct {
	Tag tagFields `json:"tag"`
}

type tagFields struct {
	ID   *int   `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Create creates a tag and returns it with its ID. Errors: 45157 (the name
// is taken or invalid), 45158 (name longer than 30 bytes), 45056 (the
// account has 100 tags).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) Create(ctx context.Context, name string, opts ...CallOption) (*Tag, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/tags/create", &tagBody{Tag: tagFields{Name: name}})
	if err != nil {
		return nil, err
	}
	var res struct {
		Tag Tag `json:"tag"`
	}
	if err := s.client.Do(req, &res, opts...); err != nil {
		return nil, err
	}
	return &res.Tag, nil
}

// List returns every tag of the account with its user count, the system
// tags included.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) List(ctx context.Context) ([]Tag, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/tags/get", nil)
	if err != nil {
		return nil, err
	}
	var res struct {
		Tags []Tag `json:"tags"`
	}
	if err := s.client.Do(req, &res, Idempotent()); err != nil {
		return nil, err
	}
	return res.Tags, nil
}

// Update renames tag id. Errors: 45058 (system tags 0, 1 and 2), 45157,
// 45158, 45159 (no such tag).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) Update(ctx context.Context, id int, name string, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/tags/update", &tagBody{Tag: tagFields{ID: &id, Name: name}})
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// Delete deletes tag id and removes it from its users. Errors: 45058
// (system tags), 45057 (more than 100000 users carry it), 45159 (no such
// tag).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) Delete(ctx context.Context, id int, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/tags/delete", &tagBody{Tag: tagFields{ID: &id}})
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// batchTagging is the body of batchtagging / batchuntagging.
type batchTagging struct {
	OpenIDs []string `json:"openid_list"`
	TagID   int      `json:"tagid"`
}

// TagUsers puts tag id on up to 50 users. Errors: 40032 (more than 50
// OpenIDs; checked before the call), 40003 (an OpenID not of this account),
// 45059 (a user would carry more than 20 tags), 45159 (no such tag).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) TagUsers(ctx context.Context, id int, openIDs []string, opts ...CallOption) error {
	return s.batch(ctx, "TagUsers", "cgi-bin/tags/members/batchtagging", id, openIDs, opts)
}

// UntagUsers takes tag id off up to 50 users. Errors as for TagUsers.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) UntagUsers(ctx context.Context, id int, openIDs []string, opts ...CallOption) error {
	return s.batch(ctx, "UntagUsers", "cgi-bin/tags/members/batchuntagging", id, openIDs, opts)
}

func (s *TagService) batch(ctx context.Context, method, path string, id int, openIDs []string, opts []CallOption) error {
	if len(openIDs) > MaxTagOpenIDs {
		return fmt.Errorf("mp: Tag.%s: %d openids, at most %d per call: %w",
			method, len(openIDs), MaxTagOpenIDs, &wxkit.APIError{ErrCode: 40032, ErrMsg: "invalid openid list size"})
	}
	req, err := s.client.NewRequest(ctx, "POST", path, &batchTagging{OpenIDs: openIDs, TagID: id})
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// TagUserList is one page of the users carrying a tag (up to 10000).
type TagUserList struct {
	Count int `json:"count"`
	Data  struct {
		OpenIDs []string `json:"openid"`
	} `json:"data"`
	// NextOpenID is the cursor of the next page, "" at the end.
	NextOpenID string `json:"next_openid"`
}

// ListUsers returns the users carrying tag id after nextOpenID ("" for the
// first page). Errors: 45159 (no such tag), 40003 (bad nextOpenID).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) ListUsers(ctx context.Context, id int, nextOpenID string) (*TagUserList, error) {
	body := struct {
		TagID      int    `json:"tagid"`
		NextOpenID string `json:"next_openid"`
	}{id, nextOpenID}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/user/tag/get", &body)
	if err != nil {
		return nil, err
	}
	l := new(TagUserList)
	if err := s.client.Do(req, l, Idempotent()); err != nil { // a POST that only reads
		return nil, err
	}
	return l, nil
}

// GetUserTags returns the IDs of the tags that user openID carries.
// Errors: 40003 (OpenID not of this account).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) GetUserTags(ctx context.Context, openID string) ([]int, error) {
	body := struct {
		OpenID string `json:"openid"`
	}{openID}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/tags/getidlist", &body)
	if err != nil {
		return nil, err
	}
	var res struct {
		TagIDs []int `json:"tagid_list"`
	}
	if err := s.client.Do(req, &res, Idempotent()); err != nil { // a POST that only reads
		return nil, err
	}
	return res.TagIDs, nil
}
