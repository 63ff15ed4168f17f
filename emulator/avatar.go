package emulator

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
)

// Avatars: a user without a configured headimgurl still has a head image,
// as every WeChat user does. The emulator draws one per openid (a
// silhouette on a colour taken from the openid) and serves it at
// /mmopen/vi_32/<openid>/<size>, the path shape of the platform's
// https://thirdwx.qlogo.cn/mmopen/vi_32/<key>/132. Sizes are the
// platform's: 0 (640), 46, 64, 96 and 132 pixels square.

// avatarPrefix is the path of the emulator's head images.
const avatarPrefix = "/mmopen/vi_32/"

// avatarSizes maps the last path element to the image's side in pixels.
var avatarSizes = map[string]int{"0": 640, "46": 46, "64": 64, "96": 96, "132": 132}

func init() {
	handlePrefix(avatarPrefix, (*Emulator).serveAvatar, func(*http.Request) string { return avatarPrefix })
}

// headImgURL is the headimgurl the platform answers for u: the configured
// one, else the emulator's drawn avatar on the origin of r.
func headImgURL(r *http.Request, u *UserConfig) string {
	if u.HeadImgURL != "" {
		return u.HeadImgURL
	}
	return requestOrigin(r) + avatarPrefix + u.OpenID + "/132"
}

// serveAvatar answers GET /mmopen/vi_32/<openid>/<size> with a PNG; 404
// for a path of another shape or an openid no app has.
func (e *Emulator) serveAvatar(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	openID, size, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, avatarPrefix), "/")
	side, known := avatarSizes[size]
	if !ok || !known || !e.hasUser(openID) {
		http.NotFound(w, r)
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, drawAvatar(openID, side)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeImage(w, "image/png", buf.Bytes())
}

// hasUser tells whether an app of the emulator has the user openID.
func (e *Emulator) hasUser(openID string) bool {
	for _, id := range e.appOrder {
		a := e.apps[id]
		a.mu.Lock()
		u := a.user(openID)
		a.mu.Unlock()
		if u != nil {
			return true
		}
	}
	return false
}

// drawAvatar draws a side × side head-and-shoulders silhouette in a light
// tint on a background colour derived from openID (the same openid always
// gives the same image).
func drawAvatar(openID string, side int) image.Image {
	sum := sha256.Sum256([]byte(openID))
	// A muted colour: each channel in 70..169.
	bg := color.RGBA{70 + sum[0]%100, 70 + sum[1]%100, 70 + sum[2]%100, 255}
	fg := color.RGBA{bg.R/3 + 170, bg.G/3 + 170, bg.B/3 + 170, 255}
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	s := float64(side)
	headX, headY, headR := 0.5*s, 0.4*s, 0.18*s
	bodyX, bodyY, bodyRX, bodyRY := 0.5*s, 0.95*s, 0.34*s, 0.3*s
	for y := range side {
		for x := range side {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			c := bg
			dx, dy := fx-headX, fy-headY
			ex, ey := (fx-bodyX)/bodyRX, (fy-bodyY)/bodyRY
			if dx*dx+dy*dy <= headR*headR || ex*ex+ey*ey <= 1 {
				c = fg
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}
