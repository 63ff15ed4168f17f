package mp

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"

	"github.com/wxkit/wxkit"
)

// FreePublishService publishes drafts (发布能力). A publication is not
// pushed to followers (use mass sending for that); its articles get
// permanent addresses and appear on the account's page. The outcome of a
// Submit arrives as the PUBLISHJOBFINISH event (message.PublishEventInfo)
// and through Get. Unavailable to Mini Programs (48001).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html
type FreePublishService service

// FreePublish returns the service for the publishing endpoints.
func (c *Client) FreePublish() *FreePublishService { return (*FreePublishService)(&c.common) }

// PublishStatus is the publish_status of a publishing job.
type PublishStatus int

// Publish statuses.
const (
	PublishStatusSuccess       PublishStatus = 0 // 成功
	PublishStatusPublishing    PublishStatus = 1 // 发布中
	PublishStatusOriginalFail  PublishStatus = 2 // 原创失败
	PublishStatusFailed        PublishStatus = 3 // 常规失败
	PublishStatusRejected      PublishStatus = 4 // 平台审核不通过
	PublishStatusUserDeleted   PublishStatus = 5 // 成功后用户删除所有文章
	PublishStatusSystemBlocked PublishStatus = 6 // 成功后系统封禁所有文章
)

// PublishID identifies a publishing job. The documentation shows it as a
// JSON string ("100000001"); SDKs in use decode it as a number, which the
// platform also sends: both are accepted.
type PublishID string

// UnmarshalJSON accepts a JSON string or number.
func (p *PublishID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = PublishID(s)
		return nil
	}
	if string(b) == "null" {
		*p = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*p = PublishID(n.String())
	return nil
}

// PublishSubmission is the answer of Submit.
type PublishSubmission struct {
	PublishID PublishID `json:"publish_id"`
	// MsgDataID is the publication's msg_data_id: its articles are
	// "<msg_data_id>_<index>" (index from 1) in the article statistics.
	MsgDataID int64 `json:"msg_data_id"`
}

// Submit publishes the draft mediaID, which leaves the drafts box. The job
// runs in the background: its outcome comes as PUBLISHJOBFINISH and
// through Get. Errors: 40007 an unknown draft, 53503 the draft failed the
// publish check, 53504/53505 the draft must be used or saved on the
// website, 48001 the account may not publish.
//
// Not retried on errcode -1 (a retry may publish twice); pass RetryUnsafe
// to accept that.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html
func (s *FreePublishService) Submit(ctx context.Context, mediaID string, opts ...CallOption) (*PublishSubmission, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/freepublish/submit", &mediaIDBody{mediaID})
	if err != nil {
		return nil, err
	}
	out := new(PublishSubmission)
	if err := s.client.Do(req, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

// PublishArticleURL is one published article: its position Idx (from 1)
// and permanent address.
type PublishArticleURL struct {
	Idx        int    `json:"idx"`
	ArticleURL string `json:"article_url"`
}

// PublishArticleDetail lists the published articles of a job.
type PublishArticleDetail struct {
	Count int                 `json:"count"`
	Items []PublishArticleURL `json:"item"`
}

// PublishJob is the state of a publishing job (Get). ArticleID and
// ArticleDetail are set on success; FailIdx lists the failing articles
// (from 1) otherwise.
type PublishJob struct {
	PublishID     PublishID            `json:"publish_id"`
	PublishStatus PublishStatus        `json:"publish_status"`
	ArticleID     string               `json:"article_id,omitempty"`
	ArticleDetail PublishArticleDetail `json:"article_detail"`
	FailIdx       []int                `json:"fail_idx"`
}

// Get returns the state of the publishing job publishID.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Get_status.html
func (s *FreePublishService) Get(ctx context.Context, publishID PublishID) (*PublishJob, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/freepublish/get", &struct {
		PublishID PublishID `json:"publish_id"`
	}{publishID})
	if err != nil {
		return nil, err
	}
	j := new(PublishJob)
	if err := s.client.Do(req, j, Idempotent()); err != nil {
		return nil, err
	}
	return j, nil
}

type articleIDBody struct {
	ArticleID string `json:"article_id"`
	Index     int    `json:"index,omitempty"`
}

// Delete deletes article index (from 1) of the publication articleID, or
// all its articles for index 0. Errors: 53600 an unknown article_id.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Delete_posts.html
func (s *FreePublishService) Delete(ctx context.Context, articleID string, index int, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/freepublish/delete", &articleIDBody{articleID, index})
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// GetArticle returns the articles of the publication articleID, each with
// URL and IsDeleted (53600 if unknown).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Get_article_from_id.html
func (s *FreePublishService) GetArticle(ctx context.Context, articleID string) ([]Article, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/freepublish/getarticle", &articleIDBody{ArticleID: articleID})
	if err != nil {
		return nil, err
	}
	var out newsItems
	if err := s.client.Do(req, &out, Idempotent()); err != nil {
		return nil, err
	}
	return out.NewsItem, nil
}

// PublicationItem is one publication of List.
type PublicationItem struct {
	ArticleID  string          `json:"article_id"`
	Content    NewsContent     `json:"content"`
	UpdateTime wxkit.Timestamp `json:"update_time"`
}

// PublicationList is a page of List.
type PublicationList struct {
	TotalCount int               `json:"total_count"`
	ItemCount  int               `json:"item_count"`
	Items      []PublicationItem `json:"item"`
}

// List returns a page of the publications, newest first (40035 for a
// Count outside 1..20).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Get_publication_records.html
func (s *FreePublishService) List(ctx context.Context, opts *ListOptions) (*PublicationList, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/freepublish/batchget", opts.body())
	if err != nil {
		return nil, err
	}
	l := new(PublicationList)
	if err := s.client.Do(req, l, Idempotent()); err != nil {
		return nil, err
	}
	return l, nil
}

// All iterates over every publication, 20 a page.
func (s *FreePublishService) All(ctx context.Context, noContent bool) iter.Seq2[*PublicationItem, error] {
	return offsetPages(ctx, func(off int) ([]PublicationItem, int, error) {
		l, err := s.List(ctx, &ListOptions{Offset: off, Count: 20, NoContent: noContent})
		if err != nil {
			return nil, 0, err
		}
		return l.Items, l.TotalCount, nil
	})
}
