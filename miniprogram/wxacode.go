package miniprogram

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/wxkit/wxkit/internal/wxhttp"
)

// EnvVersion is the version of the Mini Program a code opens.
type EnvVersion string

// The versions of EnvVersion.
const (
	EnvVersionRelease EnvVersion = "release" // the released version (default)
	EnvVersionTrial   EnvVersion = "trial"   // 体验版
	EnvVersionDevelop EnvVersion = "develop" // 开发版
)

// Limits of WXACodeRequest.
const (
	MaxSceneLength = 32   // characters of Scene
	MinCodeWidth   = 280  // px
	MaxCodeWidth   = 1280 // px
)

// RGB is a line colour, each component 0 to 255.
type RGB struct {
	R int `json:"r"`
	G int `json:"g"`
	B int `json:"b"`
}

// WXACodeRequest is the body of wxa/getwxacodeunlimit.
type WXACodeRequest struct {
	// Scene is passed to the page as the scene query (required): 1 to 32
	// characters among digits, letters and !#$&'()*+,/:;=?@-._~.
	Scene string `json:"scene"`
	// Page is the page the code opens, such as "pages/index/index" (no
	// leading "/", no query); empty means the home page.
	Page string `json:"page,omitempty"`
	// CheckPath, when false, lets Page name a page the released Mini
	// Program does not have yet; nil means WeChat's default, true.
	CheckPath *bool `json:"check_path,omitempty"`
	// EnvVersion is the version the code opens; empty means release.
	EnvVersion EnvVersion `json:"env_version,omitempty"`
	// Width is the width of the code in px, MinCodeWidth to MaxCodeWidth;
	// 0 means WeChat's default, 430.
	Width int `json:"width,omitempty"`
	// AutoColor picks the line colour from the Mini Program's colours.
	AutoColor bool `json:"auto_color,omitempty"`
	// LineColor is the line colour when AutoColor is false; nil is black.
	LineColor *RGB `json:"line_color,omitempty"`
	// IsHyaline makes the background transparent.
	IsHyaline bool `json:"is_hyaline,omitempty"`
}

// validate checks r against the documented limits.
func (r *WXACodeRequest) validate() error {
	if r == nil {
		return fmt.Errorf("%w: WXACodeUnlimited: nil request", ErrInvalidRequest)
	}
	if n := len(r.Scene); n == 0 || n > MaxSceneLength {
		return fmt.Errorf("%w: WXACodeUnlimited: scene of %d characters, want 1 to %d", ErrInvalidRequest, n, MaxSceneLength)
	}
	for i := 0; i < len(r.Scene); i++ {
		if !sceneChar(r.Scene[i]) {
			return fmt.Errorf("%w: WXACodeUnlimited: scene character %q not allowed", ErrInvalidRequest, r.Scene[i])
		}
	}
	if strings.HasPrefix(r.Page, "/") || strings.ContainsRune(r.Page, '?') {
		return fmt.Errorf("%w: WXACodeUnlimited: page %q must not start with / or carry a query", ErrInvalidRequest, r.Page)
	}
	switch r.EnvVersion {
	case "", EnvVersionRelease, EnvVersionTrial, EnvVersionDevelop:
	default:
		return fmt.Errorf("%w: WXACodeUnlimited: unknown env_version %q", ErrInvalidRequest, r.EnvVersion)
	}
	if r.Width != 0 && (r.Width < MinCodeWidth || r.Width > MaxCodeWidth) {
		return fmt.Errorf("%w: WXACodeUnlimited: width %d outside %d..%d", ErrInvalidRequest, r.Width, MinCodeWidth, MaxCodeWidth)
	}
	if c := r.LineColor; c != nil {
		for _, v := range []int{c.R, c.G, c.B} {
			if v < 0 || v > 255 {
				return fmt.Errorf("%w: WXACodeUnlimited: line_color component %d outside 0..255", ErrInvalidRequest, v)
			}
		}
	}
	return nil
}

// sceneChar reports whether c may appear in a scene.
func sceneChar(c byte) bool {
	switch {
	case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		return true
	}
	return strings.IndexByte("!#$&'()*+,/:;=?@-._~", c) >= 0
}

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
)

// WXACodeUnlimited creates an unlimited Mini Program code (小程序码, no limit
// on their number) that opens r.Page with r.Scene, and returns the image
// (POST wxa/getwxacodeunlimit). WeChat sends a PNG (a JPEG on some
// versions) labelled image/jpeg; the bytes are returned as they came.
//
// The request is checked first against the documented limits
// (ErrInvalidRequest). WeChat answers a failure with a JSON errcode instead
// of an image, returned as *wxkit.APIError: ErrInvalidPage (41030),
// wxkit.ErrAPIDailyQuota (45009, more than 5000 codes a minute). A reply
// that is neither an image nor such an error is an error too. The call is
// retried on -1: the same request makes the same code.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/qrcode-link/qr-code/getUnlimitedQRCode.html
func (c *Client) WXACodeUnlimited(ctx context.Context, r *WXACodeRequest) ([]byte, error) {
	const path = "wxa/getwxacodeunlimit"
	if err := r.validate(); err != nil {
		return nil, err
	}
	req, err := c.api.NewRequest(ctx, "POST", path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "image/*, application/json")
	// DoRaw returns a JSON body with a non-zero errcode as *wxkit.APIError.
	resp, err := c.api.DoRaw(req, wxhttp.Idempotent())
	if err != nil {
		return nil, err
	}
	if len(resp.Body) > 0 {
		ct := resp.Header.Get("Content-Type")
		if bytes.HasPrefix(resp.Body, pngMagic) || bytes.HasPrefix(resp.Body, jpegMagic) ||
			strings.HasPrefix(ct, "image/") && !bytes.HasPrefix(bytes.TrimSpace(resp.Body), []byte("{")) {
			return resp.Body, nil
		}
	}
	return nil, fmt.Errorf("wxkit: POST %s: reply is neither an image nor an errcode (Content-Type %q, %d bytes)",
		path, resp.Header.Get("Content-Type"), len(resp.Body))
}
