package mp

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/message"
)

func TestQRCodeCreate(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	qr := env.c.QRCode()

	tmp, err := qr.Create(ctx, NewTemporaryQRCode(QRScene{SceneID: 123}, time.Hour))
	if err != nil || tmp.Ticket == "" || tmp.ExpireSeconds != 3600 || !strings.HasPrefix(tmp.URL, "http://weixin.qq.com/q/") {
		t.Fatalf("QRCode.Create(temporary) = %+v, %v", tmp, err)
	}
	capped, err := qr.Create(ctx, NewTemporaryQRCode(QRScene{SceneStr: "promo"}, 40*24*time.Hour))
	if err != nil || capped.ExpireSeconds != int(MaxQRExpire/time.Second) {
		t.Errorf("QRCode.Create(40 days) = %+v, %v; want expire_seconds capped at 2592000", capped, err)
	}
	perm, err := qr.Create(ctx, NewPermanentQRCode(QRScene{SceneStr: "shop-42"}))
	if err != nil || perm.ExpireSeconds != 0 || perm.Ticket == "" {
		t.Fatalf("QRCode.Create(permanent) = %+v, %v", perm, err)
	}
	if _, err := qr.Create(ctx, NewPermanentQRCode(QRScene{SceneID: MaxQRLimitSceneID + 1})); err == nil {
		t.Errorf("QRCode.Create(permanent scene 100001) = nil, want an error")
	}
	// Unvalidated, the emulator answers 40097 for the same request.
	req, err := env.c.NewRequest(ctx, "POST", "cgi-bin/qrcode/create", NewPermanentQRCode(QRScene{SceneID: MaxQRLimitSceneID + 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.c.Do(req, nil); !errors.Is(err, &wxkit.APIError{ErrCode: 40097}) {
		t.Errorf("qrcode/create(scene 100001) = %v, want 40097", err)
	}

	// The image is served for the ticket.
	show := ShowQRCodeURL(tmp.Ticket)
	if want := "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=" + url.QueryEscape(tmp.Ticket); show != want {
		t.Errorf("ShowQRCodeURL = %s, want %s", show, want)
	}
	u, _ := url.Parse(show)
	resp, err := env.srv.HTTP.Client().Get(env.srv.URL + u.Path + "?" + u.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(body), "\x89PNG") {
		t.Errorf("showqrcode = %d %s, want a PNG", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Scanning pushes SCAN to a follower and subscribe to a newcomer.
	res, err := env.srv.ScanQRCode(ctx, emuAppID, env.users[0], tmp.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := message.Parse([]byte(res.Message.XML)); m == nil || m.Event != message.EventTypeScan || m.EventKey != "123" || m.Ticket != tmp.Ticket {
		t.Errorf("ScanQRCode(follower) pushed %s", res.Message.XML)
	}
	res, err = env.srv.ScanQRCode(ctx, emuAppID, env.users[3], perm.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := message.Parse([]byte(res.Message.XML)); m == nil || m.Event != message.EventTypeSubscribe || m.EventKey != "qrscene_shop-42" {
		t.Errorf("ScanQRCode(newcomer) pushed %s", res.Message.XML)
	}
	if u, err := env.c.User().Get(ctx, env.users[3], nil); err != nil || !u.Subscribed() {
		t.Errorf("User.Get after subscribe scan = %+v, %v; want a follower", u, err)
	}
}
