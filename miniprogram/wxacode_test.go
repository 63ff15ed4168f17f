package miniprogram

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/wxkit/wxkit"
)

// testImage encodes a small image with enc.
func testImage(t *testing.T, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.White)
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWXACodeUnlimited(t *testing.T) {
	t.Parallel()
	pngImg := testImage(t, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) })
	jpegImg := testImage(t, func(b *bytes.Buffer, i image.Image) error { return jpeg.Encode(b, i, nil) })
	type reply struct {
		contentType string
		status      int
		body        []byte
	}
	tests := []struct {
		name    string
		replies []reply
		want    []byte // the image; nil: an error
		wantErr error  // with want == nil: the error it matches (nil: any)
		calls   int32
	}{
		{"png labelled jpeg", []reply{{"image/jpeg", 200, pngImg}}, pngImg, nil, 1},
		{"jpeg", []reply{{"image/jpeg", 200, jpegImg}}, jpegImg, nil, 1},
		{"png without content type", []reply{{"application/octet-stream", 200, pngImg}}, pngImg, nil, 1},
		{"invalid page", []reply{{"application/json; encoding=utf-8", 200, []byte(`{"errcode":41030,"errmsg":"invalid page rid: 1"}`)}}, nil, ErrInvalidPage, 1},
		{"quota", []reply{{"application/json", 200, []byte(`{"errcode":45009,"errmsg":"reach max api daily quota limit"}`)}}, nil, wxkit.ErrAPIDailyQuota, 1},
		{"json error labelled image", []reply{{"image/jpeg", 200, []byte(`{"errcode":40001,"errmsg":"invalid credential"}`)}, {"image/jpeg", 200, pngImg}}, pngImg, nil, 2},
		{"system error retried", []reply{{"application/json", 200, []byte(`{"errcode":-1,"errmsg":"system error"}`)}, {"image/jpeg", 200, pngImg}}, pngImg, nil, 2},
		{"json without errcode", []reply{{"image/jpeg", 200, []byte(`{"errcode":0,"errmsg":"ok"}`)}}, nil, nil, 1},
		{"html", []reply{{"text/html", 200, []byte(`<html>busy</html>`)}}, nil, nil, 1},
		{"empty image", []reply{{"image/jpeg", 200, nil}}, nil, nil, 1},
		{"http 502", []reply{{"image/jpeg", 502, pngImg}}, nil, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, p := setup(t)
			mux.HandleFunc("POST /wxa/getwxacodeunlimit", func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasPrefix(r.URL.Query().Get("access_token"), "tok-") {
					t.Errorf("access_token = %q", r.URL.Query().Get("access_token"))
				}
				testJSONBody(t, r, `{"scene":"id=42&from=share","page":"pages/item/item","check_path":false,"env_version":"trial","width":430,"line_color":{"r":0,"g":128,"b":255},"is_hyaline":true}`)
				rp := tt.replies[min(int(p.count("/wxa/getwxacodeunlimit"))-1, len(tt.replies)-1)]
				w.Header().Set("Content-Type", rp.contentType)
				w.WriteHeader(rp.status)
				w.Write(rp.body)
			})
			no := false
			got, err := c.WXACodeUnlimited(t.Context(), &WXACodeRequest{
				Scene: "id=42&from=share", Page: "pages/item/item", CheckPath: &no, EnvVersion: EnvVersionTrial,
				Width: 430, LineColor: &RGB{0, 128, 255}, IsHyaline: true,
			})
			switch {
			case tt.want != nil:
				if err != nil || !bytes.Equal(got, tt.want) {
					t.Errorf("WXACodeUnlimited = %d bytes, %v; want the %d-byte image", len(got), err, len(tt.want))
				}
			case err == nil:
				t.Errorf("WXACodeUnlimited = %d bytes, want an error", len(got))
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("WXACodeUnlimited = %v, want %v", err, tt.wantErr)
			}
			if n := p.count("/wxa/getwxacodeunlimit"); n != tt.calls {
				t.Errorf("calls = %d, want %d", n, tt.calls)
			}
		})
	}
}

// TestWXACodeUnlimitedDefaults: a request with only a scene sends only the
// scene, leaving every default to WeChat.
func TestWXACodeUnlimitedDefaults(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("POST /wxa/getwxacodeunlimit", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"scene":"a=1"}`)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(testImage(t, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) }))
	})
	if _, err := c.WXACodeUnlimited(t.Context(), &WXACodeRequest{Scene: "a=1"}); err != nil {
		t.Fatalf("WXACodeUnlimited = %v", err)
	}
}

func TestWXACodeRequestValidation(t *testing.T) {
	t.Parallel()
	c, _, p := setup(t)
	tests := []struct {
		name string
		req  *WXACodeRequest
	}{
		{"nil", nil},
		{"no scene", &WXACodeRequest{}},
		{"scene of 33", &WXACodeRequest{Scene: strings.Repeat("a", 33)}},
		{"scene with space", &WXACodeRequest{Scene: "a b"}},
		{"scene with percent", &WXACodeRequest{Scene: "a%20b"}},
		{"scene in Chinese", &WXACodeRequest{Scene: "商品"}},
		{"page with leading slash", &WXACodeRequest{Scene: "a", Page: "/pages/index/index"}},
		{"page with query", &WXACodeRequest{Scene: "a", Page: "pages/index/index?a=1"}},
		{"unknown env", &WXACodeRequest{Scene: "a", EnvVersion: "prod"}},
		{"width 279", &WXACodeRequest{Scene: "a", Width: 279}},
		{"width 1281", &WXACodeRequest{Scene: "a", Width: 1281}},
		{"colour 256", &WXACodeRequest{Scene: "a", LineColor: &RGB{R: 256}}},
		{"colour -1", &WXACodeRequest{Scene: "a", LineColor: &RGB{B: -1}}},
	}
	for _, tt := range tests {
		if _, err := c.WXACodeUnlimited(t.Context(), tt.req); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: WXACodeUnlimited = %v, want ErrInvalidRequest", tt.name, err)
		}
	}
	if n := p.count("/wxa/getwxacodeunlimit"); n != 0 {
		t.Errorf("invalid requests were sent (%d calls)", n)
	}
	// The limits themselves are accepted.
	for _, r := range []*WXACodeRequest{
		{Scene: strings.Repeat("a", 32), Width: MinCodeWidth},
		{Scene: "!#$&'()*+,/:;=?@-._~09azAZ", Width: MaxCodeWidth, LineColor: &RGB{255, 255, 255}},
	} {
		if err := r.validate(); err != nil {
			t.Errorf("validate(%+v) = %v", r, err)
		}
	}
}
