package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/wxkit/wxkit/gateway"
)

// Dev mode's web setup: the demo page (web.demo) at /demo/, the demo app's
// menu that opens it, the JS-SDK domain and a random login-state key.

// The click keys of dev mode's menu, answered by apps[].replies.clicks.
const (
	DevClickHello = "DEMO_HELLO"
	DevClickAbout = "DEMO_ABOUT"
)

// Replies to dev mode's menu clicks.
const (
	devHelloReply = "Hello from wxkit! 你好 — this reply comes from replies.clicks.DEMO_HELLO in the gateway's configuration."
	devAboutReply = "wxkit: a Go toolkit for the server side of WeChat (gateway, library, emulator). " +
		"Tap Demo for web login, JS-SDK and WeChat Pay; send hello to hear world. https://github.com/wxkit/wxkit"
)

// devMenu is the demo app's custom menu in dev mode, synced to the
// emulator at start: Demo (VIEW, the demo page of the gateway at
// publicURL), Hello and About (CLICK).
func devMenu(publicURL string) *gateway.MenuConfig {
	return &gateway.MenuConfig{Button: []gateway.MenuButton{
		{Type: "view", Name: "Demo", URL: publicURL + "/demo/"},
		{Type: "click", Name: "Hello", Key: DevClickHello},
		{Type: "click", Name: "About", Key: DevClickAbout},
	}}
}

// devWeb turns on the demo page in cfg and sets up the demo app (the
// first app) for it: the gateway's host (listen, the host of public_url in
// dev mode) as its JS-SDK domain, the menu and the replies to its clicks,
// and a random oauth.secret (one process: logins need not survive a
// restart), so that dev mode does not warn about a missing one.
func devWeb(cfg *gateway.Config, listen string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("dev mode: oauth.secret: %w", err)
	}
	cfg.OAuth.Secret = hex.EncodeToString(key)
	cfg.Web.Demo = true
	a := &cfg.Apps[0]
	a.JSSDK.Domains = append(a.JSSDK.Domains, listen)
	a.JSSDK.JSAPIList = []string{"chooseWXPay", "getLocation", "updateAppMessageShareData", "updateTimelineShareData"}
	a.Menu = devMenu("http://" + listen)
	a.Replies.Clicks = map[string]*gateway.ReplyConfig{
		DevClickHello: {Text: devHelloReply},
		DevClickAbout: {Text: devAboutReply},
	}
	return nil
}
