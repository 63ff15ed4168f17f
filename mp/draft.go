package mp

import (
	"context"
	"iter"

	"github.com/wxkit/wxkit"
)

// DraftService handles the drafts box (草稿箱): articles saved for
// publishing with FreePublishService.Submit or mass sending as mpnews.
// Drafts are unavailable to Mini Programs (48001).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Add_draft.html
type DraftService service

// Draft returns the service for the drafts box endpoints.
func (c *Client) Draft() *DraftService { return (*DraftService)(&c.common) }

// ArticleType is the article_type of an Article.
type ArticleType string

// Article types.
const (
	// ArticleTypeNews is an article (图文消息), the default.
	ArticleTypeNews ArticleType = "news"
	// ArticleTypeNewsPic is an image post (图片消息): ImageInfo lists its
	// images, Content is plain text.
	ArticleTypeNewsPic ArticleType = "newspic"
)

// Article is one article of a draft or a publication. Limits (characters):
// Title 1..32 (45003), Author 16 (45110), Digest 128 (45004; single
// articles only, else emptied; when empty WeChat takes the first 54
// characters of the text), Content under 20000 characters and 1 MB
// (45002; scripts are removed, and images whose address does not come from
// MediaService.UploadImage), ContentSourceURL 1 KB (45005). ThumbMediaID
// must be a permanent image material (MediaService.AddMaterial), else
// 40007; required for news. NeedOpenComment and OnlyFansCanComment are 0
// or 1.
//
// URL (the article's address), ThumbURL and IsDeleted are set in answers
// only.
type Article struct {
	ArticleType        ArticleType `json:"article_type,omitempty"`
	Title              string      `json:"title"`
	Author             string      `json:"author,omitempty"`
	Digest             string      `json:"digest,omitempty"`
	Content            string      `json:"content"`
	ContentSourceURL   string      `json:"content_source_url,omitempty"`
	ThumbMediaID       string      `json:"thumb_media_id,omitempty"`
	ShowCoverPic       *int        `json:"show_cover_pic,omitempty"`
	NeedOpenComment    int         `json:"need_open_comment"`
	OnlyFansCanComment int         `json:"only_fans_can_comment"`
	// PicCrop2351 and PicCrop11 crop the cover to 2.35:1 and 1:1:
	// "X1_Y1_X2_Y2" in 0..1 coordinates of the image.
	PicCrop2351 string     `json:"pic_crop_235_1,omitempty"`
	PicCrop11   string     `json:"pic_crop_1_1,omitempty"`
	ImageInfo   *ImageInfo `json:"image_info,omitempty"`

	URL       string `json:"url,omitempty"`
	ThumbURL  string `json:"thumb_url,omitempty"`
	IsDeleted bool   `json:"is_deleted,omitempty"`
}

// ImageInfo lists the images of a newspic Article (permanent image
// materials).
type ImageInfo struct {
	ImageList []ImageItem `json:"image_list"`
}

// ImageItem is one image of ImageInfo.
type ImageItem struct {
	ImageMediaID string `json:"image_media_id"`
}

type draftAddRequest struct {
	Articles []Article `json:"articles"`
}

// Add saves a draft of 1..8 articles (44003 none, 45008 more) and returns
// its media_id. See Article for the limits and errcodes.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Add_draft.html
func (s *DraftService) Add(ctx context.Context, articles []Article, opts ...CallOption) (string, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/draft/add", &draftAddRequest{articles})
	if err != nil {
		return "", err
	}
	var out mediaIDBody
	if err := s.client.Do(req, &out, opts...); err != nil {
		return "", err
	}
	return out.MediaID, nil
}

type newsItems struct {
	NewsItem []Article `json:"news_item"`
}

// Get returns the articles of the draft mediaID (40007 if unknown, or
// published, or deleted).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Get_draft.html
func (s *DraftService) Get(ctx context.Context, mediaID string) ([]Article, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/draft/get", &mediaIDBody{mediaID})
	if err != nil {
		return nil, err
	}
	var out newsItems
	if err := s.client.Do(req, &out, Idempotent()); err != nil {
		return nil, err
	}
	return out.NewsItem, nil
}

type draftUpdateRequest struct {
	MediaID  string   `json:"media_id"`
	Index    int      `json:"index"`
	Articles *Article `json:"articles"`
}

// Update replaces the article at index (from 0) of the draft mediaID.
// Errors: 40007 an unknown draft, 40035 an index outside the draft, and
// those of Add.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Update_draft.html
func (s *DraftService) Update(ctx context.Context, mediaID string, index int, article *Article, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/draft/update",
		&draftUpdateRequest{MediaID: mediaID, Index: index, Articles: article})
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// Delete deletes the draft mediaID (40007 if unknown).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Delete_draft.html
func (s *DraftService) Delete(ctx context.Context, mediaID string, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/draft/delete", &mediaIDBody{mediaID})
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// Count returns the number of drafts.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Count_drafts.html
func (s *DraftService) Count(ctx context.Context) (int, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/draft/count", nil)
	if err != nil {
		return 0, err
	}
	var out struct {
		TotalCount int `json:"total_count"`
	}
	if err := s.client.Do(req, &out, Idempotent()); err != nil {
		return 0, err
	}
	return out.TotalCount, nil
}

// ListOptions pages DraftService.List and FreePublishService.List.
type ListOptions struct {
	// Offset is the position of the first item (0 = the newest).
	Offset int `json:"offset"`
	// Count is the number of items, 1..20 (40035 otherwise).
	Count int `json:"count"`
	// NoContent leaves the articles' Content out.
	NoContent bool `json:"-"`
}

type listBody struct {
	Offset    int `json:"offset"`
	Count     int `json:"count"`
	NoContent int `json:"no_content"`
}

// body is the request body of o; a nil o asks for Count 0 (40035).
func (o *ListOptions) body() *listBody {
	if o == nil {
		return &listBody{}
	}
	b := &listBody{Offset: o.Offset, Count: o.Count}
	if o.NoContent {
		b.NoContent = 1
	}
	return b
}

// DraftItem is one draft of DraftService.List.
type DraftItem struct {
	MediaID    string          `json:"media_id"`
	Content    NewsContent     `json:"content"`
	UpdateTime wxkit.Timestamp `json:"update_time"`
}

// DraftList is a page of DraftService.List.
type DraftList struct {
	TotalCount int         `json:"total_count"`
	ItemCount  int         `json:"item_count"`
	Items      []DraftItem `json:"item"`
}

// List returns a page of drafts, last changed first (40035 for a Count
// outside 1..20).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Get_draft_list.html
func (s *DraftService) List(ctx context.Context, opts *ListOptions) (*DraftList, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/draft/batchget", opts.body())
	if err != nil {
		return nil, err
	}
	l := new(DraftList)
	if err := s.client.Do(req, l, Idempotent()); err != nil {
		return nil, err
	}
	return l, nil
}

// All iterates over every draft, 20 a page.
func (s *DraftService) All(ctx context.Context, noContent bool) iter.Seq2[*DraftItem, error] {
	return offsetPages(ctx, func(off int) ([]DraftItem, int, error) {
		l, err := s.List(ctx, &ListOptions{Offset: off, Count: 20, NoContent: noContent})
		if err != nil {
			return nil, 0, err
		}
		return l.Items, l.TotalCount, nil
	})
}
