package main

import (
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/gateway"
)

// DevMiniAppID is the AppID of dev mode's demo Mini Program, hosted by the
// emulator beside the demo Official Account and served by the gateway's
// Mini Program login (POST /wxa/{appid}/login, /profile, /phone); the demo
// merchant takes its payments too.
const DevMiniAppID = "wxfedcba9876543210"

// devMiniSecret is the demo Mini Program's AppSecret, known to the
// emulator and the gateway of dev mode only (never printed).
const devMiniSecret = "fedcba9876543210fedcba9876543210"

// devEmulatorConfig is the emulator's configuration in dev mode: its
// default (the demo Official Account and merchant) plus the demo Mini
// Program, whose users have realistic openids derived from its AppID, and
// the merchant bound to both apps. The demo account's OAuth domains
// (网页授权域名) and JS-safe domains (js_domains) are gatewayHost
// (host:port), so that the gateway's web login and the demo page's
// wx.config succeed.
func devEmulatorConfig(gatewayHost string) emulator.Config {
	cfg := emulator.DefaultConfig()
	cfg.Apps[0].OAuth.Domains = []string{gatewayHost}
	cfg.Apps[0].JSDomains = []string{gatewayHost}
	cfg.Apps = append(cfg.Apps, emulator.AppConfig{
		AppID:  DevMiniAppID,
		Type:   emulator.AppTypeMiniProgram,
		Secret: devMiniSecret,
		Token:  "wxkitdemominitoken",
		Name:   "wxkit 演示小程序",
		Users: []emulator.UserConfig{
			{Nickname: "张三", Sex: 1, City: "深圳", Province: "广东", Country: "中国", Language: "zh_CN", PhoneNumber: "13800138000"},
			{Nickname: "李四", Sex: 2, City: "杭州", Province: "浙江", Country: "中国", Language: "zh_CN"},
		},
	})
	cfg.Merchants[0].AppIDs = append(cfg.Merchants[0].AppIDs, DevMiniAppID)
	return cfg
}

// devMiniApp is the gateway's app of the demo Mini Program: login only (no
// message push).
func devMiniApp() gateway.AppConfig {
	return gateway.AppConfig{AppID: DevMiniAppID, Type: gateway.AppTypeMiniProgram, Secret: devMiniSecret}
}
