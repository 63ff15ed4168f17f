package emulator

import (
	"bytes"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGetWXACodeUnlimit(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	target := "/wxa/getwxacodeunlimit?access_token=" + appToken(t, e, mpAppID, mpSecret)
	tests := []struct {
		name   string
		body   string
		width  int
		info   WXACodeInfo
		corner color.NRGBA // the top-left pixel: the background
		dot    *color.NRGBA
	}{
		{"defaults", `{"scene":"a=1&b=2"}`, 430, WXACodeInfo{Scene: "a=1&b=2", EnvVersion: "release"}, color.NRGBA{255, 255, 255, 255}, &color.NRGBA{0, 0, 0, 255}},
		{"page and size", `{"scene":"id=42","page":"pages/shop/index","width":600,"env_version":"trial"}`, 600,
			WXACodeInfo{Scene: "id=42", Page: "pages/shop/index", EnvVersion: "trial"}, color.NRGBA{255, 255, 255, 255}, nil},
		{"small width is raised", `{"scene":"x","width":100}`, 280, WXACodeInfo{Scene: "x", EnvVersion: "release"}, color.NRGBA{255, 255, 255, 255}, nil},
		{"large width is lowered", `{"scene":"x","width":5000}`, 1280, WXACodeInfo{Scene: "x", EnvVersion: "release"}, color.NRGBA{255, 255, 255, 255}, nil},
		{"hyaline and line color", `{"scene":"x","is_hyaline":true,"line_color":{"r":"200","g":10,"b":"30"}}`, 430,
			WXACodeInfo{Scene: "x", EnvVersion: "release"}, color.NRGBA{}, &color.NRGBA{200, 10, 30, 255}},
		{"all scene characters", `{"scene":"!#$&'()*+,/:;=?@-._~Az09"}`, 430, WXACodeInfo{Scene: "!#$&'()*+,/:;=?@-._~Az09", EnvVersion: "release"}, color.NRGBA{255, 255, 255, 255}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "POST", target, tt.body)
			w := serveHTTP(e, req)
			if ct := w.Header().Get("Content-Type"); ct != "image/jpeg" {
				t.Fatalf("Content-Type %q, want image/jpeg (the platform's label, whatever the bytes)", ct)
			}
			img, err := png.Decode(bytes.NewReader(w.Body.Bytes()))
			if err != nil {
				t.Fatalf("png.Decode: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tt.width || b.Dy() != tt.width {
				t.Errorf("size %v, want %d×%d", b, tt.width, tt.width)
			}
			if got := color.NRGBAModel.Convert(img.At(0, 0)); got != tt.corner {
				t.Errorf("background %v, want %v", got, tt.corner)
			}
			if tt.dot != nil {
				// The ring around the centre disc is drawn in the line color.
				c := tt.width / 2
				x := c + int(float64(tt.width)*0.2*0.9)
				if got := color.NRGBAModel.Convert(img.At(x, c)); got != *tt.dot {
					t.Errorf("line pixel %v, want %v", got, *tt.dot)
				}
			}
			info, err := ReadWXACode(w.Body.Bytes())
			if err != nil {
				t.Fatalf("ReadWXACode: %v", err)
			}
			if diff := cmp.Diff(tt.info, info); diff != "" {
				t.Errorf("code leads to (-want +got):\n%s", diff)
			}
		})
	}
	// Different scenes draw different codes.
	a := serveHTTP(e, newRequest(t, "POST", target, `{"scene":"a"}`)).Body.Bytes()
	b := serveHTTP(e, newRequest(t, "POST", target, `{"scene":"b"}`)).Body.Bytes()
	ia, _ := png.Decode(bytes.NewReader(a))
	ib, _ := png.Decode(bytes.NewReader(b))
	same := true
	for y := 0; y < 430 && same; y += 3 {
		for x := 0; x < 430; x += 3 {
			if ia.At(x, y) != ib.At(x, y) {
				same = false
				break
			}
		}
	}
	if same {
		t.Errorf("the codes of two scenes look the same")
	}
	if _, err := ReadWXACode([]byte("not a png")); err == nil {
		t.Errorf("ReadWXACode accepted data that is not a PNG")
	}
}

func TestGetWXACodeUnlimitErrors(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, func(c *Config) {
		c.Apps[2].Pages = []string{"pages/index/index", "pages/shop/index"}
		c.Limits.WXACodePerMinute = 3
	})
	tok := appToken(t, e, mpAppID, mpSecret)
	target := "/wxa/getwxacodeunlimit?access_token=" + tok
	tests := []struct {
		name, tok, body string
		want            int
	}{
		{"scene missing", tok, `{"page":"pages/index/index"}`, 40169},
		{"scene too long", tok, `{"scene":"` + strings.Repeat("a", 33) + `"}`, 40169},
		{"scene with a percent sign", tok, `{"scene":"a%20b"}`, 40169},
		{"scene in Chinese", tok, `{"scene":"中文"}`, 40169},
		{"page with a leading slash", tok, `{"scene":"x","page":"/pages/index/index"}`, 41030},
		{"page with a query", tok, `{"scene":"x","page":"pages/index/index?a=1"}`, 41030},
		{"page not released", tok, `{"scene":"x","page":"pages/new/index"}`, 41030},
		{"env_version", tok, `{"scene":"x","env_version":"beta"}`, 40097},
		{"width not a number", tok, `{"scene":"x","width":"big"}`, 47001},
		{"official account", appToken(t, e, testAppID, testSecret), `{"scene":"x"}`, 48001},
		{"token missing", "", `{"scene":"x"}`, 41001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, call(t, e, "POST", "/wxa/getwxacodeunlimit?access_token="+tt.tok, tt.body), tt.want)
		})
	}
	// check_path false allows a page that is not released.
	ok := func(body string) bool {
		return serveHTTP(e, newRequest(t, "POST", target, body)).Header().Get("Content-Type") == "image/jpeg"
	}
	if !ok(`{"scene":"x","page":"pages/new/index","check_path":false,"env_version":"develop"}`) {
		t.Errorf("check_path false: refused")
	}
	// Limit 3 a minute: one call above was served, two more are, then 45009.
	if !ok(`{"scene":"x"}`) || !ok(`{"scene":"x"}`) {
		t.Fatalf("calls within the minute quota refused")
	}
	wantErr(t, "4th call in a minute", call(t, e, "POST", target, `{"scene":"x"}`), 45009)
	advance(t, e, time.Minute)
	if !ok(`{"scene":"x"}`) {
		t.Errorf("next minute: refused")
	}
	if got := e.Stats().Count("/wxa/getwxacodeunlimit", mpAppID); got.Calls < 4 || got.Errors < 1 {
		t.Errorf("stats = %+v", got)
	}
}
