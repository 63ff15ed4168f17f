package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"time"
)

// QR code limits.
const (
	qrDefaultExpire = 60 * time.Second      // temporary code without expire_seconds
	qrMaxExpire     = 2592000 * time.Second // 30 days
	qrMaxLimitScene = 100000                // QR_LIMIT_SCENE scene_id range 1..100000
	qrMaxSceneStr   = 64                    // scene_str length, bytes
)

// qrCode is an issued QR code.
type qrCode struct {
	scene     string
	permanent bool
	expires   time.Time
}

// qrState is the per-app QR code store (guarded by app.mu).
type qrState struct {
	codes map[string]*qrCode // by ticket
}

func init() {
	handle("/cgi-bin/qrcode/create", (*Emulator).serveQRCodeCreate)
	handle("/cgi-bin/showqrcode", (*Emulator).serveShowQRCode)
}

func qrcodesOf(a *app) *qrState {
	st := appExt[qrState](a, "mp_qrcode")
	if st.codes == nil {
		st.codes = map[string]*qrCode{}
	}
	return st
}

// serveQRCodeCreate serves POST /cgi-bin/qrcode/create. action_name is
// QR_SCENE or QR_STR_SCENE (temporary: expire_seconds, 60 when absent, at
// most 2592000) or QR_LIMIT_SCENE or QR_LIMIT_STR_SCENE (permanent).
// scene_id must be a non-zero 32-bit integer (1..100000 when permanent),
// scene_str 1 to 64 bytes; anything else gives 40097. It answers
// {"ticket","expire_seconds","url"} (no expire_seconds when permanent).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
func (e *Emulator) serveQRCodeCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ExpireSeconds int64  `json:"expire_seconds"`
		ActionName    string `json:"action_name"`
		ActionInfo    struct {
			Scene struct {
				SceneID  int64  `json:"scene_id"`
				SceneStr string `json:"scene_str"`
			} `json:"scene"`
		} `json:"action_info"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	sc := req.ActionInfo.Scene
	var code qrCode
	switch req.ActionName {
	case "QR_SCENE", "QR_LIMIT_SCENE":
		code.permanent = req.ActionName == "QR_LIMIT_SCENE"
		ok := sc.SceneID != 0 && sc.SceneID >= -1<<31 && sc.SceneID < 1<<31
		if code.permanent {
			ok = sc.SceneID >= 1 && sc.SceneID <= qrMaxLimitScene
		}
		if !ok {
			e.writeAPIError(w, apiErr(40097))
			return
		}
		code.scene = strconv.FormatInt(sc.SceneID, 10)
	case "QR_STR_SCENE", "QR_LIMIT_STR_SCENE":
		code.permanent = req.ActionName == "QR_LIMIT_STR_SCENE"
		if sc.SceneStr == "" || len(sc.SceneStr) > qrMaxSceneStr {
			e.writeAPIError(w, apiErr(40097))
			return
		}
		code.scene = sc.SceneStr
	default:
		e.writeAPIError(w, apiErr(40097))
		return
	}
	now := e.Now()
	expire := time.Duration(req.ExpireSeconds) * time.Second
	if !code.permanent {
		if expire <= 0 {
			expire = qrDefaultExpire
		}
		expire = min(expire, qrMaxExpire)
		code.expires = now.Add(expire)
	}
	short := randomString(20, tokenAlphabet[:62])
	// Real tickets are base64 of a binary record holding the short URL.
	ticket := base64.StdEncoding.EncodeToString(append([]byte("\x81\x01\x00\x00"+randomString(8, tokenAlphabet[:62])+"http://weixin.qq.com/q/"), short...))
	a.mu.Lock()
	qrcodesOf(a).codes[ticket] = &code
	a.mu.Unlock()
	out := map[string]any{"ticket": ticket, "url": "http://weixin.qq.com/q/" + short}
	if !code.permanent {
		out["expire_seconds"] = int64(expire / time.Second)
	}
	writeJSON(w, out)
}

// findQRCode returns the unexpired code of ticket in any app.
func (e *Emulator) findQRCode(ticket string, now time.Time) (*app, *qrCode) {
	for _, a := range e.apps {
		a.mu.Lock()
		c := qrcodesOf(a).codes[ticket]
		a.mu.Unlock()
		if c != nil && (c.permanent || now.Before(c.expires)) {
			return a, c
		}
	}
	return nil, nil
}

// serveShowQRCode serves GET /cgi-bin/showqrcode?ticket (the image host
// mp.weixin.qq.com on the real platform): a PNG for a valid ticket, 404 for
// an unknown or expired one. The picture is a pattern derived from the
// ticket, not a scannable code.
func (e *Emulator) serveShowQRCode(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	a, _ := e.findQRCode(ticket, e.Now())
	if a == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("invalid or expired ticket\n"))
		return
	}
	setCallApp(r, a.cfg.AppID)
	sum := sha256.Sum256([]byte(ticket))
	const cells, scale = 16, 8
	img := image.NewGray(image.Rect(0, 0, cells*scale, cells*scale))
	for y := 0; y < cells; y++ {
		for x := 0; x < cells; x++ {
			bit := sum[(y*cells+x)/8%len(sum)] >> uint(x%8) & 1
			c := color.Gray{Y: 255}
			if bit == 1 {
				c = color.Gray{Y: 0}
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetGray(x*scale+dx, y*scale+dy, c)
				}
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(buf.Bytes())
}

// ScanQRCode makes user openID of appID scan the QR code of ticket: a
// follower pushes SCAN with EventKey = the scene, a user who does not
// follow pushes subscribe with EventKey = "qrscene_" + the scene (and
// follows). Both carry the Ticket. An unknown or expired ticket, or one of
// another app, gives ErrBadPushRequest.
func (e *Emulator) ScanQRCode(ctx context.Context, appID, openID, ticket string) (*PushResult, error) {
	a := e.app(appID)
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	ca, code := e.findQRCode(ticket, e.Now())
	if ca != a {
		return nil, fmt.Errorf("%w: no valid QR code of %s with this ticket", ErrBadPushRequest, appID)
	}
	a.mu.Lock()
	u := a.user(openID)
	subscribed := u != nil && u.subscribed
	a.mu.Unlock()
	if u == nil {
		return nil, fmt.Errorf("%w: %q of app %s", ErrUnknownUser, openID, appID)
	}
	req := PushRequest{User: openID, Type: MsgTypeEvent, Event: EventTypeScan, EventKey: code.scene, Ticket: ticket}
	if !subscribed {
		req.Event, req.EventKey = EventTypeSubscribe, "qrscene_"+code.scene
	}
	return e.Push(ctx, appID, req)
}
