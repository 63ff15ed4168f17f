// Package interop checks that widely used third-party WeChat SDKs, left
// unmodified, work against wxkit's emulator. It holds only tests, in a Go
// module of its own (tools/interop/go.mod) so that the SDKs and their
// dependencies never enter wxkit's go.mod.
//
// Each SDK is pointed at an in-process emulator (emulatortest.New with
// emulator.DefaultConfig) by its base URL alone: the tests change nothing
// else in how the SDK is called. Requests to any host but the WeChat
// platform's and loopback are refused, so the tests never leave the
// machine.
//
// # github.com/silenceper/wechat/v2 (v2.1.10)
//
// The SDK has no base-URL option; every call goes through its package
// level HTTP client (wechat.SetHTTPClient) or, for the v2 refund, which
// builds a client of its own to present the merchant certificate, through
// its URI modifier (util.SetURIModifier). The tests give it both: a client
// whose transport sends api.weixin.qq.com, api.mch.weixin.qq.com,
// open.weixin.qq.com and mp.weixin.qq.com to the emulator, and a modifier
// that rewrites the same hosts. Both are global in the SDK, so its tests
// do not run in parallel.
//
// Covered, in silenceper_pay_test.go: WeChat Pay v2 JSAPI with MD5 and
// with HMAC-SHA256 and a coupon — unified order, the JSAPI bridge config
// checked by the emulator as the WeChat client checks getBrandWCPayRequest,
// the pay notify parsed and verified with the SDK's notify code and
// acknowledged, order query, refund with the merchant's apiclient_cert.p12
// and its refund notify decrypted with the SDK — the unified order
// answer's signature, a wrong API key, and a NATIVE order closed unpaid.
//
// In silenceper_oa_test.go: the Official Account's access_token and
// stable_token, custom menu (create, get, conditional, try-match, current
// self-menu info, delete), users (list, info, batch info, remark, blacklist), tags,
// template messages, subscription notifications (bizsend),
// customer-service messages and typing, QR codes, the JS-SDK config,
// temporary and permanent media, web authorization (the SDK's authorize
// URL through the emulator's page, code, user info, refresh, check), and
// the SDK's message server receiving the emulator's encrypted pushes and
// answering with passive replies.
//
// In silenceper_miniprogram_test.go: Mini Program login (code2session,
// checksession, encryptedData decryption), phone number, the unlimited
// Mini Program code and subscription messages. Two of these skip with
// "known emulator mismatch" while the emulator answers differently from
// the platform in a way the SDK cannot read (getuserphonenumber's
// countryCode as a number, getwxacodeunlimit labelled image/png); they run
// again by themselves once the emulator answers as the platform does.
//
// In silenceper_templates_test.go: template/api_add_template and the
// subscription-template library (wxaapi/newtmpl/*: categories, public
// titles and keywords, add, list, delete).
//
// In silenceper_oa_ops_test.go: getcallbackip, get_api_domain_ip,
// clear_quota (and its 48006), shorturl (switched off by the platform on
// 2021-03-15: the SDK reads its 45103 "This API has been unsupported"),
// the customer-service account APIs (kfaccount/*, the head image through
// kfaccount/uploadheadimg and the kf_headimgurl it gives, getkflist with
// kf_id as a number, getonlinekflist), and mass messages (broadcast to
// everyone, MASSSENDJOBFINISH through the SDK's message server, status,
// speed, preview).
//
// In silenceper_draft_test.go: material/batchget_material, article images
// (media/uploadimg, kept in a draft's content while outside images are
// dropped), the drafts box and publishing (submit, status, the published
// article and its page, list, delete).
//
// In silenceper_datacube_test.go: the data APIs on a day the emulator
// counted (user summary and cumulate, upstream messages, interface
// summary), and their refusal of today and of too long a span.
//
// Not covered: the SDK's datacube article and hourly variants (served by
// the emulator, not exercised here), and what the emulator does not serve
// (HTTP 404): publisher/stat ad reports, OCR (cv/ocr/*) and the device
// APIs.
package interop
