package mp

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// QRCodeService creates parametric QR codes (带参数二维码): scanning one
// pushes a subscribe (for a new follower, EventKey "qrscene_" + scene) or
// SCAN event carrying the scene.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
type QRCodeService service

// QRCode returns the service for the QR code endpoint.
func (c *Client) QRCode() *QRCodeService { return (*QRCodeService)(&c.common) }

// QRActionName is the kind of QR code.
type QRActionName string

// The four kinds: temporary or permanent, with an integer or string scene.
const (
	QRActionScene         QRActionName = "QR_SCENE"           // temporary, scene_id
	QRActionStrScene      QRActionName = "QR_STR_SCENE"       // temporary, scene_str
	QRActionLimitScene    QRActionName = "QR_LIMIT_SCENE"     // permanent, scene_id 1..100000
	QRActionLimitStrScene QRActionName = "QR_LIMIT_STR_SCENE" // permanent, scene_str
)

// Limits of QR codes.
const (
	// MaxQRExpire is the longest life of a temporary code (30 days).
	MaxQRExpire = 2592000 * time.Second
	// MaxQRLimitSceneID is the largest scene_id of a permanent code.
	MaxQRLimitSceneID = 100000
)

// QRScene is the scene of a QR code: SceneID (a non-zero 32-bit integer;
// 1..100000 for a permanent code) or SceneStr (1 to 64 bytes).
type QRScene struct {
	SceneID  int32  `json:"scene_id,omitempty"`
	SceneStr string `json:"scene_str,omitempty"`
}

// QRCodeRequest is the body of qrcode/create. ExpireSeconds applies to
// temporary codes only (60 when 0, at most 2592000).
type QRCodeRequest struct {
	ExpireSeconds int          `json:"expire_seconds,omitempty"`
	ActionName    QRActionName `json:"action_name"`
	ActionInfo    struct {
		Scene QRScene `json:"scene"`
	} `json:"action_info"`
}

// NewTemporaryQRCode returns the request for a temporary code of scene
// living expire (whole seconds, at most MaxQRExpire): QR_SCENE for a
// SceneID, QR_STR_SCENE for a SceneStr.
func NewTemporaryQRCode(scene QRScene, expire time.Duration) *QRCodeRequest {
	r := &QRCodeRequest{ExpireSeconds: int(expire / time.Second), ActionName: QRActionScene}
	if scene.SceneStr != "" {
		r.ActionName = QRActionStrScene
	}
	r.ActionInfo.Scene = scene
	return r
}

// NewPermanentQRCode returns the request for a permanent code of scene:
// QR_LIMIT_SCENE for a SceneID, QR_LIMIT_STR_SCENE for a SceneStr.
func NewPermanentQRCode(scene QRScene) *QRCodeRequest {
	r := &QRCodeRequest{ActionName: QRActionLimitScene}
	if scene.SceneStr != "" {
		r.ActionName = QRActionLimitStrScene
	}
	r.ActionInfo.Scene = scene
	return r
}

// QRCode is a created QR code. Show it with ShowQRCodeURL(Ticket), or encode
// URL in a QR code of your own.
type QRCode struct {
	Ticket string `json:"ticket"`
	// ExpireSeconds is the life of a temporary code; 0 for permanent ones.
	ExpireSeconds int `json:"expire_seconds,omitempty"`
	// URL is the content of the code (http://weixin.qq.com/q/...).
	URL string `json:"url"`
}

// Create creates a QR code (see NewTemporaryQRCode and NewPermanentQRCode).
// The scene is checked before the call: a request without a scene, or with
// an out-of-range permanent SceneID, gives an error. WeChat answers 40097
// (invalid args) for the rest.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
func (s *QRCodeService) Create(ctx context.Context, r *QRCodeRequest, opts ...CallOption) (*QRCode, error) {
	if r == nil {
		return nil, fmt.Errorf("mp: QRCode.Create: nil request")
	}
	sc := r.ActionInfo.Scene
	switch r.ActionName {
	case QRActionScene, QRActionLimitScene:
		if sc.SceneID == 0 {
			return nil, fmt.Errorf("mp: QRCode.Create: %s needs a non-zero scene_id", r.ActionName)
		}
		if r.ActionName == QRActionLimitScene && (sc.SceneID < 1 || sc.SceneID > MaxQRLimitSceneID) {
			return nil, fmt.Errorf("mp: QRCode.Create: permanent scene_id %d outside 1..%d", sc.SceneID, MaxQRLimitSceneID)
		}
	case QRActionStrScene, QRActionLimitStrScene:
		if sc.SceneStr == "" || len(sc.SceneStr) > 64 {
			return nil, fmt.Errorf("mp: QRCode.Create: %s needs a scene_str of 1 to 64 bytes", r.ActionName)
		}
	default:
		return nil, fmt.Errorf("mp: QRCode.Create: invalid action_name %q", r.ActionName)
	}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/qrcode/create", r)
	if err != nil {
		return nil, err
	}
	q := new(QRCode)
	if err := s.client.Do(req, q, opts...); err != nil {
		return nil, err
	}
	return q, nil
}

// ShowQRCodeURL returns the URL of the image of the QR code ticket:
// https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=<ticket, URL-encoded>.
// It needs no access_token.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
func ShowQRCodeURL(ticket string) string {
	return "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=" + url.QueryEscape(ticket)
}
