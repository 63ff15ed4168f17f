package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func init() {
	handle("/wxa/getwxacodeunlimit", (*Emulator).serveGetWXACodeUnlimit)
}

// Sizes of an unlimited Mini Program code, in pixels.
const (
	wxaCodeDefaultWidth = 430
	wxaCodeMinWidth     = 280
	wxaCodeMaxWidth     = 1280
	wxaMaxScene         = 32
)

// colorComponent is one of r, g, b in line_color: a number or a decimal
// string ({"r":"0","g":"0","b":"0"} in the docs).
type colorComponent uint8

// UnmarshalJSON accepts 12 or "12" (0..255).
func (c *colorComponent) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return fmt.Errorf("emulator: invalid color component %s", b)
	}
	*c = colorComponent(n)
	return nil
}

// wxaCodeRequest is the body of wxa/getwxacodeunlimit.
type wxaCodeRequest struct {
	Scene      string `json:"scene"`
	Page       string `json:"page"`
	CheckPath  *bool  `json:"check_path"`
	EnvVersion string `json:"env_version"`
	Width      int    `json:"width"`
	AutoColor  bool   `json:"auto_color"`
	LineColor  *struct {
		R colorComponent `json:"r"`
		G colorComponent `json:"g"`
		B colorComponent `json:"b"`
	} `json:"line_color"`
	IsHyaline bool `json:"is_hyaline"`
}

// validWXAScene reports whether s is a scene: 1 to 32 visible characters
// among digits, letters and !#$&'()*+,/:;=?@-._~.
func validWXAScene(s string) bool {
	if s == "" || len(s) > wxaMaxScene {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("!#$&'()*+,/:;=?@-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// validWXAPage reports whether p is a page path as the platform takes it:
// "pages/index/index", no leading "/", no query, letters, digits and
// "_-./" only.
func validWXAPage(p string) bool {
	if p == "" || len(p) > 1024 || p[0] == '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

// serveGetWXACodeUnlimit serves POST /wxa/getwxacodeunlimit: the answer is
// a PNG image (labelled Content-Type image/jpeg, as the platform does) of a Mini Program code for scene
// and page, width × width pixels (width 430 by default, kept within
// 280..1280), drawn in line_color (black by default) on white, or on a
// transparent background with is_hyaline; its tEXt chunks carry scene,
// page and env_version (see ReadWXACode). Errors (JSON): the access_token
// errors, 48001 for an Official Account, 44002/47001 a missing or bad body,
// 40169 a scene that is empty, longer than 32 characters or has other
// characters than digits, letters and !#$&'()*+,/:;=?@-._~, 41030 a page
// that is not a page path (leading "/", query) or, with check_path (the
// default), not one of the app's pages when it lists them, 40097 an
// env_version other than release, trial or develop, 45009 over
// Limits.WXACodePerMinute (5000) calls in this minute.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/qrcode-link/qr-code/getUnlimitedQRCode.html
func (e *Emulator) serveGetWXACodeUnlimit(w http.ResponseWriter, r *http.Request) {
	var req wxaCodeRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireMiniProgram(w, a) {
		return
	}
	if !validWXAScene(req.Scene) {
		e.writeAPIError(w, wxaErr(40169))
		return
	}
	checkPath := req.CheckPath == nil || *req.CheckPath
	if req.Page != "" && (!validWXAPage(req.Page) ||
		checkPath && len(a.cfg.Pages) > 0 && !slices.Contains(a.cfg.Pages, req.Page)) {
		e.writeAPIError(w, wxaErr(41030))
		return
	}
	env := req.EnvVersion
	switch env {
	case "":
		env = "release"
	case "release", "trial", "develop":
	default:
		e.writeErr(w, 40097)
		return
	}
	st := wxaOf(a)
	st.mu.Lock()
	ok := takeMinute(st.minutes, "wxacode", e.cfg.Limits.WXACodePerMinute, e.Now())
	st.mu.Unlock()
	if !ok {
		e.writeErr(w, 45009)
		return
	}
	width := req.Width
	switch {
	case width == 0:
		width = wxaCodeDefaultWidth
	case width < wxaCodeMinWidth:
		width = wxaCodeMinWidth
	case width > wxaCodeMaxWidth:
		width = wxaCodeMaxWidth
	}
	line := color.NRGBA{A: 255}
	switch {
	case req.LineColor != nil && !req.AutoColor:
		line = color.NRGBA{R: uint8(req.LineColor.R), G: uint8(req.LineColor.G), B: uint8(req.LineColor.B), A: 255}
	case req.AutoColor:
		line = color.NRGBA{R: 0x07, G: 0xc1, B: 0x60, A: 255}
	}
	info := WXACodeInfo{Scene: req.Scene, Page: req.Page, EnvVersion: env}
	img, err := drawWXACode(info, width, line, req.IsHyaline)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	// The platform labels its code image/jpeg whatever the bytes (SDKs
	// check for exactly that type); the body is a PNG.
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(img)))
	_, _ = w.Write(img)
}

// WXACodeInfo is what an emulated Mini Program code leads to.
type WXACodeInfo struct {
	Scene      string `json:"scene"`
	Page       string `json:"page"`
	EnvVersion string `json:"env_version"`
}

// drawWXACode draws the code of info, width pixels square, and returns it
// as PNG with info in tEXt chunks. The drawing looks like a Mini Program
// code (a disc with rays of dots around it); the dots are bits of a hash
// of info, so different codes look different.
func drawWXACode(info WXACodeInfo, width int, line color.NRGBA, hyaline bool) ([]byte, error) {
	bg := color.NRGBA{R: 255, G: 255, B: 255, A: 255}
	if hyaline {
		bg = color.NRGBA{}
	}
	img := image.NewPaletted(image.Rect(0, 0, width, width), color.Palette{bg, line})
	const sectors, rings = 36, 6
	var bits []byte
	for i := byte(0); len(bits)*8 < sectors*rings; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%s\x00%s", i, info.Scene, info.Page, info.EnvVersion))
		bits = append(bits, sum[:]...)
	}
	c := float64(width) / 2
	outer := float64(width) * 0.47
	disc := float64(width) * 0.2
	inner := disc * 1.25
	for y := 0; y < width; y++ {
		for x := 0; x < width; x++ {
			dx, dy := float64(x)+0.5-c, float64(y)+0.5-c
			rr := math.Hypot(dx, dy)
			on := false
			switch {
			case rr <= disc:
				on = rr >= disc*0.82 // a ring where the logo sits
			case rr >= inner && rr < outer:
				theta := math.Atan2(dy, dx) + math.Pi // 0..2π
				fs := theta / (2 * math.Pi) * sectors
				fr := (rr - inner) / (outer - inner) * rings
				s, ri := int(fs)%sectors, int(fr)
				bit := s*rings + ri
				if bits[bit/8]>>(bit%8)&1 == 1 {
					ps, pr := fs-math.Floor(fs), fr-math.Floor(fr)
					on = ps > 0.2 && ps < 0.8 && pr > 0.15 && pr < 0.85
				}
			}
			if on {
				img.SetColorIndex(x, y, 1)
			}
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		return nil, err
	}
	return insertPNGText(b.Bytes(), [][2]string{{"scene", info.Scene}, {"page", info.Page}, {"env_version", info.EnvVersion}})
}

// pngHeaderLen is the PNG signature plus the IHDR chunk.
const pngHeaderLen = 8 + 4 + 4 + 13 + 4

// insertPNGText adds a tEXt chunk per keyword/text pair after IHDR.
func insertPNGText(img []byte, kv [][2]string) ([]byte, error) {
	if len(img) < pngHeaderLen || string(img[12:16]) != "IHDR" {
		return nil, errors.New("emulator: not a PNG")
	}
	out := append([]byte(nil), img[:pngHeaderLen]...)
	for _, p := range kv {
		data := append(append([]byte(p[0]), 0), p[1]...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		chunk := append([]byte("tEXt"), data...)
		out = append(out, chunk...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
	}
	return append(out, img[pngHeaderLen:]...), nil
}

// ReadWXACode returns what a code made by the emulator's
// wxa/getwxacodeunlimit leads to (scene, page, env_version), read from its
// tEXt chunks, as a scan of the code would. It returns an error for data
// that is not such a PNG.
func ReadWXACode(img []byte) (WXACodeInfo, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(img) < 8 || string(img[:8]) != sig {
		return WXACodeInfo{}, errors.New("emulator: not a PNG")
	}
	var info WXACodeInfo
	found := false
	for p := 8; p+12 <= len(img); {
		n := int(binary.BigEndian.Uint32(img[p:]))
		if n < 0 || p+12+n > len(img) {
			return WXACodeInfo{}, errors.New("emulator: truncated PNG chunk")
		}
		typ, data := string(img[p+4:p+8]), img[p+8:p+8+n]
		if typ == "tEXt" {
			if k, v, ok := bytes.Cut(data, []byte{0}); ok {
				switch string(k) {
				case "scene":
					info.Scene, found = string(v), true
				case "page":
					info.Page = string(v)
				case "env_version":
					info.EnvVersion = string(v)
				}
			}
		}
		if typ == "IEND" {
			break
		}
		p += 12 + n
	}
	if !found {
		return WXACodeInfo{}, errors.New("emulator: the PNG is not a code made by the emulator (no scene)")
	}
	return info, nil
}
