package mp

import (
	"context"
	"io"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/wxhttp"
)

// MaterialType is the type argument of BatchGetMaterial: a MediaType
// (image, voice, video) or MaterialTypeNews.
type MaterialType string

// Material types of BatchGetMaterial.
const (
	MaterialTypeImage MaterialType = "image"
	MaterialTypeVoice MaterialType = "voice"
	MaterialTypeVideo MaterialType = "video"
	// MaterialTypeNews lists the permanent news materials of the retired
	// add_news API; articles now live in drafts (DraftService) and
	// publications (FreePublishService).
	MaterialTypeNews MaterialType = "news"
)

// MaterialListItem is one permanent material of BatchGetMaterial. URL is
// set for images; Content for news.
type MaterialListItem struct {
	MediaID    string          `json:"media_id"`
	Name       string          `json:"name,omitempty"`
	UpdateTime wxkit.Timestamp `json:"update_time"`
	URL        string          `json:"url,omitempty"`
	Content    *NewsContent    `json:"content,omitempty"`
}

// NewsContent holds the articles of a news material, draft or publication
// (their create_time and update_time are set by FreePublishService.List).
type NewsContent struct {
	NewsItem   []Article       `json:"news_item"`
	CreateTime wxkit.Timestamp `json:"create_time,omitzero"`
	UpdateTime wxkit.Timestamp `json:"update_time,omitzero"`
}

// MaterialList is a page of BatchGetMaterial: TotalCount materials of the
// type in all, ItemCount in Items.
type MaterialList struct {
	TotalCount int                `json:"total_count"`
	ItemCount  int                `json:"item_count"`
	Items      []MaterialListItem `json:"item"`
}

type batchGetRequest struct {
	Type   MaterialType `json:"type,omitempty"`
	Offset int          `json:"offset"`
	Count  int          `json:"count"`
}

// BatchGetMaterial lists the permanent materials of typ, newest first,
// count (1..20) from offset (0 = the newest). Errors: 40004 an unknown
// type, 40035 count outside 1..20.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_materials_list.html
func (s *MediaService) BatchGetMaterial(ctx context.Context, typ MaterialType, offset, count int) (*MaterialList, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/material/batchget_material",
		&batchGetRequest{Type: typ, Offset: offset, Count: count})
	if err != nil {
		return nil, err
	}
	l := new(MaterialList)
	if err := s.client.Do(req, l, Idempotent()); err != nil {
		return nil, err
	}
	return l, nil
}

// maxUploadImg caps the body of UploadImage (1 MB plus the form).
const maxUploadImg = 1<<20 + 64<<10

// UploadImage uploads an image for the body of articles (图文消息内的图片),
// jpg or png under 1 MB, read from r and named filename, and returns its
// URL for <img src> in Article.Content (other image addresses are removed
// from articles). It does not count as a material. Errors: 40005 another
// file type, 40009 over 1 MB, 44001 an empty file.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Adding_Permanent_Assets.html
func (s *MediaService) UploadImage(ctx context.Context, filename string, r io.Reader, opts ...CallOption) (string, error) {
	req, err := s.client.api.NewMultipartRequest(ctx, "cgi-bin/media/uploadimg", nil,
		[]wxhttp.FormFile{{Field: "media", FileName: filename, Content: r}}, maxUploadImg)
	if err != nil {
		return "", err
	}
	var out struct {
		URL string `json:"url"`
	}
	if err := s.client.Do(req, &out, opts...); err != nil {
		return "", err
	}
	return out.URL, nil
}
