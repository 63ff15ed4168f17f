package mp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/wxhttp"
)

// MediaService handles media files (素材管理): temporary media, valid for 3
// days, and the basics of permanent materials.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/New_temporary_materials.html
type MediaService service

// Media returns the service for the media and material endpoints.
func (c *Client) Media() *MediaService { return (*MediaService)(&c.common) }

// MediaType is the type of a media file.
type MediaType string

// The media types and their limits: image 10 MB (png, jpeg, jpg, gif; bmp
// too as a permanent material), voice 2 MB (amr, mp3; wma and wav too as a
// permanent material), video 10 MB (mp4), thumb 64 KB (jpg).
const (
	MediaTypeImage MediaType = "image"
	MediaTypeVoice MediaType = "voice"
	MediaTypeVideo MediaType = "video"
	MediaTypeThumb MediaType = "thumb"
)

// maxUpload caps the multipart body of an upload (the largest file, 10 MB,
// plus room for the form).
const maxUpload = 10<<20 + 64<<10

// UploadedMedia is the answer of Upload. For a thumb WeChat names the id
// thumb_media_id; Upload copies it into MediaID as well.
type UploadedMedia struct {
	Type         MediaType       `json:"type"`
	MediaID      string          `json:"media_id"`
	ThumbMediaID string          `json:"thumb_media_id,omitempty"`
	CreatedAt    wxkit.Timestamp `json:"created_at"`
}

// Upload uploads a temporary media file (valid 3 days) read from r, named
// filename (its extension must fit typ). Errors: 40004 (type), 40005 (file
// type), 40009..40012 (too large for the type), 44001 (empty file).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/New_temporary_materials.html
func (s *MediaService) Upload(ctx context.Context, typ MediaType, filename string, r io.Reader, opts ...CallOption) (*UploadedMedia, error) {
	path := "cgi-bin/media/upload?" + url.Values{"type": {string(typ)}}.Encode()
	req, err := s.client.api.NewMultipartRequest(ctx, path, nil,
		[]wxhttp.FormFile{{Field: "media", FileName: filename, Content: r}}, maxUpload)
	if err != nil {
		return nil, err
	}
	m := new(UploadedMedia)
	if err := s.client.Do(req, m, opts...); err != nil {
		return nil, err
	}
	if m.MediaID == "" {
		m.MediaID = m.ThumbMediaID
	}
	return m, nil
}

// MediaFile is a downloaded media file. For a temporary video WeChat gives
// VideoURL instead of the bytes; for a permanent video it gives Title,
// Description and DownURL.
type MediaFile struct {
	// ContentType is the Content-Type of the download ("image/jpeg").
	ContentType string
	// FileName is the name from Content-Disposition, if any.
	FileName string
	// Content is the file.
	Content []byte

	VideoURL    string `json:"video_url,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	DownURL     string `json:"down_url,omitempty"`
}

// toMediaFile turns a raw reply into a MediaFile: JSON replies (videos)
// are decoded, anything else is the file.
func toMediaFile(resp *wxhttp.Response) (*MediaFile, error) {
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	f := &MediaFile{ContentType: ct}
	if mt == "application/json" || mt == "text/plain" && strings.HasPrefix(strings.TrimSpace(string(resp.Body)), "{") {
		if err := json.Unmarshal(resp.Body, f); err != nil {
			return nil, fmt.Errorf("mp: media: decode reply: %w", err)
		}
		return f, nil
	}
	f.Content = resp.Body
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil {
			f.FileName = params["filename"]
		}
	}
	return f, nil
}

// Get downloads the temporary media mediaID. An unknown or expired id gives
// wxkit.ErrInvalidMediaID (40007).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_temporary_materials.html
func (s *MediaService) Get(ctx context.Context, mediaID string) (*MediaFile, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/media/get?"+url.Values{"media_id": {mediaID}}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.api.DoRaw(req, wxhttp.RetrySystemError()) // a read
	if err != nil {
		return nil, err
	}
	return toMediaFile(resp)
}

// VideoDescription describes a permanent video (required for videos).
type VideoDescription struct {
	Title        string `json:"title"`
	Introduction string `json:"introduction"`
}

// Material is a permanent material added with AddMaterial. URL is set for
// images (usable in articles).
type Material struct {
	MediaID string `json:"media_id"`
	URL     string `json:"url,omitempty"`
}

// AddMaterial uploads a permanent material read from r, named filename.
// video describes a video and must be set for MediaTypeVideo (nil
// otherwise). Errors as for Upload.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Adding_Permanent_Assets.html
func (s *MediaService) AddMaterial(ctx context.Context, typ MediaType, filename string, r io.Reader, video *VideoDescription, opts ...CallOption) (*Material, error) {
	var fields map[string]string
	if typ == MediaTypeVideo {
		if video == nil || video.Title == "" {
			return nil, fmt.Errorf("mp: Media.AddMaterial: a video needs a VideoDescription with a Title")
		}
		b, err := json.Marshal(video)
		if err != nil {
			return nil, err
		}
		fields = map[string]string{"description": string(b)}
	}
	path := "cgi-bin/material/add_material?" + url.Values{"type": {string(typ)}}.Encode()
	req, err := s.client.api.NewMultipartRequest(ctx, path, fields,
		[]wxhttp.FormFile{{Field: "media", FileName: filename, Content: r}}, maxUpload)
	if err != nil {
		return nil, err
	}
	m := new(Material)
	if err := s.client.Do(req, m, opts...); err != nil {
		return nil, err
	}
	return m, nil
}

type mediaIDBody struct {
	MediaID string `json:"media_id"`
}

// GetMaterial downloads the permanent material mediaID: the bytes of an
// image, voice or thumb, or Title, Description and DownURL of a video. An
// unknown id gives 40007.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Getting_Permanent_Assets.html
func (s *MediaService) GetMaterial(ctx context.Context, mediaID string) (*MediaFile, error) {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/material/get_material", &mediaIDBody{mediaID})
	if err != nil {
		return nil, err
	}
	resp, err := s.client.api.DoRaw(req, wxhttp.RetrySystemError()) // a read
	if err != nil {
		return nil, err
	}
	return toMediaFile(resp)
}

// DeleteMaterial deletes the permanent material mediaID (40007 if unknown).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Deleting_Permanent_Assets.html
func (s *MediaService) DeleteMaterial(ctx context.Context, mediaID string, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/material/del_material", &mediaIDBody{mediaID})
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// MaterialCount is the number of permanent materials by type.
type MaterialCount struct {
	VoiceCount int `json:"voice_count"`
	VideoCount int `json:"video_count"`
	ImageCount int `json:"image_count"`
	NewsCount  int `json:"news_count"`
}

// GetMaterialCount returns the number of permanent materials by type.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_the_total_of_all_materials.html
func (s *MediaService) GetMaterialCount(ctx context.Context) (*MaterialCount, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/material/get_materialcount", nil)
	if err != nil {
		return nil, err
	}
	n := new(MaterialCount)
	if err := s.client.Do(req, n, Idempotent()); err != nil {
		return nil, err
	}
	return n, nil
}
