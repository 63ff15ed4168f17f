package mp

import (
	"context"
	"iter"
)

// AllUsers iterates over the users carrying tag id, calling ListUsers a
// page (10000 OpenIDs) at a time with the previous page's NextOpenID. It
// stops at the first error, which it yields (45159 for an unknown tag).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (s *TagService) AllUsers(ctx context.Context, id int) iter.Seq2[string, error] {
	return openIDPages(ctx, func(next string) ([]string, string, error) {
		page, err := s.ListUsers(ctx, id, next)
		if err != nil {
			return nil, "", err
		}
		return page.Data.OpenIDs, page.NextOpenID, nil
	})
}
