// Package emulator is an offline fake of the WeChat platform: it answers
// the APIs of api.weixin.qq.com, open.weixin.qq.com (with the Open
// Platform's authorization pages) and api.mch.weixin.qq.com on one
// http.Handler, and pushes signed (and, in compat and safe mode,
// encrypted) messages to the accounts' servers, with the lifetimes, quotas,
// errcodes and retry schedule of the real platform (docs/PLATFORM.md).
//
// It is the other side of the wire: it never uses wxkit's client code to
// answer a request, only the shared protocol packages (wxkit, wxcrypto).
//
// Use it in-process (emulator.New, or emulatortest.New in tests) or through
// `wxkit emulator --listen ADDR --config FILE`. Its time is an injectable
// Clock plus an offset moved by Advance (or POST /_emulator/clock), so that
// tokens expire and quotas reset without waiting.
//
// # Control API
//
// Served under /_emulator/ on the same listener; JSON in and out; errors are
// {"error":"..."} with a 4xx status.
//
//	GET    /_emulator/apps                    {"apps":[AppInfo...]} (no secrets)
//	GET    /_emulator/apps/{appid}            AppInfo
//	PATCH  /_emulator/apps/{appid}            {"push_url":"http://..."} → AppInfo
//	POST   /_emulator/apps/{appid}/push       PushRequest → PushResult
//	GET    /_emulator/apps/{appid}/messages   ?user=openid → {"messages":[ConversationEntry...]}
//	GET    /_emulator/clock                   {"now":RFC3339,"unix":N,"offset":"2h0m0s"}
//	POST   /_emulator/clock                   {"advance":"2h"} → same as GET
//	GET    /_emulator/faults                  {"faults":[Fault...]}
//	POST   /_emulator/faults                  Fault → {"faults":[...]}
//	DELETE /_emulator/faults                  clears all faults
//	GET    /_emulator/stats                   Stats
//	DELETE /_emulator/stats                   resets the counters
//	POST   /_emulator/apps/{appid}/articles         SentArticle → SentArticle (for the data APIs)
//	POST   /_emulator/apps/{appid}/articles/events  ArticleEvent → ArticleEvent (a reader reads, shares, saves)
//	GET    /_emulator/apps/{appid}/kf         {"accounts":[KfAccount...],"sessions":[KfSession...]}
//	POST   /_emulator/apps/{appid}/kf/accept  {"kf_account"}: the invited worker accepts (comes online)
//	POST   /_emulator/apps/{appid}/kf/status  {"kf_account","status":0|1}: a bound worker goes off/online
//	POST   /_emulator/apps/{appid}/kf/switch  {"openid","kf_account"}: the session moves (kf_switch_session)
//	GET    /_emulator/apps/{appid}/mass       {"jobs":[MassJob...]} (mass sends and their counts)
//
// A push, for example:
//
//	POST /_emulator/apps/wx0123456789abcdef/push
//	{"user":"oWxkt1Qy6Fh0bK7Xc2Lp9Tn3Rs4A","type":"text","content":"hello"}
//
//	200 {"appid":"wx0123456789abcdef","user":"oWxkt1Qy6Fh0bK7Xc2Lp9Tn3Rs4A",
//	     "message":{"to_user_name":"gh_0123456789ab","from_user_name":"oWxkt1...","create_time":1740794400,
//	                "msg_type":"text","content":"hello","msg_id":"7476740545287438337","xml":"<xml>...</xml>"},
//	     "attempts":[{"status":200,"duration":"1.2ms","body":"<xml><Encrypt>...</xml>"}],
//	     "reply":{"type":"text","content":"world","create_time":1740794400,"encrypted":true,"xml":"<xml>...</xml>"},
//	     "no_reply":false,"user_sees":"world"}
//
// A failed push has "user_sees":"该公众号暂时无法提供服务，请稍后再试" and an "error".
// A push from a user the account has blacklisted is not delivered: it has
// "blocked":true and no attempts (following and unfollowing still go
// through, as do the events the platform pushes about a send:
// TEMPLATESENDJOBFINISH, subscribe_msg_sent_event), and its log entry is
// marked "blocked".
//
// # Extending the route table
//
// Files of this package register platform routes from init() with
// handle(path, handler); handlers check the token with requireToken, answer
// with writeJSON / writeErr / writeErrMsg / writeAPIError (so that stats see
// the errcode), count daily quotas with app.takeQuota and dailyLimit, and
// keep per-app state in a struct reached through appExt.
//
// # The browser page
//
//	GET  /  (and /ui/)                   a page that looks like the WeChat app: pick an app and
//	                                     a user, chat, tap the custom menu, follow/unfollow, scan,
//	                                     send a location; a dev drawer shows the XML of each push
//
// The page and its helper routes (/ui/api/menu, /ui/api/click) are not
// platform calls: they are neither counted in stats nor subject to faults.
//
// # Platform APIs served here
//
//	GET  /cgi-bin/token                  access_token (2000/day, 5-minute overlap)
//	POST /cgi-bin/stable_token           stable access_token (force_refresh 20/day, 30 s apart)
//	GET  /cgi-bin/ticket/getticket       jsapi / wx_card ticket
//	GET  /connect/oauth2/authorize       web authorization (consent page for snsapi_userinfo,
//	                                     silent for snsapi_base, apps[].oauth.auto_approve for tests)
//	GET  /sns/oauth2/access_token        code → sns access_token (codes single use, 5 minutes)
//	GET  /sns/oauth2/refresh_token       refresh_token (30 days)
//	GET  /sns/userinfo                   user profile (snsapi_userinfo only, else 48001)
//	GET  /sns/auth                       sns access_token check
//	     /cgi-bin/menu/…, user/…, tags/…, message/…, media/…, material/…, qrcode/…
//	                                     the Official Account APIs (see mp_*.go)
//	     /cgi-bin/draft/…, freepublish/…, material/batchget_material, media/uploadimg
//	                                     drafts (1..8 articles, covers must be permanent images),
//	                                     publishing followed by PUBLISHJOBFINISH, material lists and
//	                                     article images (mp_draft.go, mp_publish.go, mp_material.go)
//	GET  /s?__biz&mid&idx&sn, /s?tempkey published articles and draft previews (a view of a
//	                                     published article counts as a read in the datacube)
//	GET  /mmbiz_jpg/…, /mmbiz_png/…      the images of material/add_material and media/uploadimg
//	     /cgi-bin/message/mass/…         mass sends: MASSSENDJOBFINISH pushed 10 s (emulator time)
//	                                     after the job starts; delivered messages in the users' chats
//	     /customservice/…                customer-service accounts and sessions (kf_create_session,
//	                                     kf_close_session pushed), head images (uploadheadimg)
//	GET  /mmbiz/…                        the head images of customer-service accounts (kf_headimgurl)
//	GET  /mmopen/vi_32/<openid>/<size>   a drawn head image (PNG; 0, 46, 64, 96, 132) for users without
//	                                     a configured headimgurl: the one sns/userinfo answers
//	POST /cgi-bin/shorturl               retired by the platform: 45103 This API has been unsupported
//	POST /cgi-bin/openapi/quota/get, /cgi-bin/clear_quota, /cgi-bin/openapi/rid/get
//	                                     daily quotas counted per app and API (45009 when used up),
//	                                     clearing them (10 a month), and the request behind a rid
//	POST /datacube/…                     data APIs, counted from what the emulator saw: follows,
//	                                     messages, deliveries, article events (mp_datacube.go)
//	GET  /sns/jscode2session             Mini Program login: wx.login code → openid, unionid, session_key
//	                                     (codes single use, 5 minutes; 45011 above 100 a minute per user)
//	GET  /wxa/checksession               session_key check (hmac_sha256 signature; 87009)
//	POST /wxa/business/getuserphonenumber  getPhoneNumber code → phone_info with watermark
//	POST /wxa/getwxacodeunlimit          unlimited Mini Program code: a PNG (see ReadWXACode)
//	POST /cgi-bin/message/subscribe/send Mini Program subscription message (43101 without acceptance)
//	     /cgi-bin/template/…, message/template/send
//	                                     template messages: industry (once a month), library templates
//	                                     (25 at most), sends followed by TEMPLATESENDJOBFINISH
//	     /wxaapi/newtmpl/…, POST /cgi-bin/message/subscribe/bizsend
//	                                     subscription templates (categories, public library, 25 at most)
//	                                     and notifications (43101 without acceptance, then
//	                                     subscribe_msg_sent_event); see mp_newtmpl.go, mp_subscribe.go
//	POST /cgi-bin/component/api_component_token, api_create_preauthcode, api_query_auth,
//	     api_authorizer_token, api_get_authorizer_info
//	                                     the Open Platform (third-party platforms, component_*.go)
//	GET  /cgi-bin/componentloginpage, /wxaopen/safe/bindcomponent (and the older /safe/bindcomponent)
//	                                     the authorization page where a simulated admin picks an
//	                                     account and approves
//
// Every API that takes an access_token checks it first: 41001 missing,
// 40014 malformed, 40001 unknown or superseded, 42001 expired. Every errmsg
// ends with " rid: xxxxxxxx-xxxxxxxx-xxxxxxxx" as on the real platform. An
// authorizer_access_token a third-party platform holds for an account is
// accepted by the account's APIs like its own tokens.
//
// # Mini Programs
//
// Apps with type miniprogram (YAML "apps[].type: miniprogram") are Mini
// Programs: they log users in with jscode2session, and are pushed
// customer-service messages and events in XML or, with push_format: json,
// in JSON ({"ToUserName","Encrypt"} in safe mode); they take no passive
// reply but transfer_customer_service. The control API simulates the
// Mini Program client of a user (openid; the app's first user when
// empty):
//
//	POST /_emulator/apps/{appid}/wx.login                   {"openid"} → {"code"} (a new session_key for the user)
//	POST /_emulator/apps/{appid}/wx.getUserInfo             {"openid"} → {"encryptedData","iv","rawData","signature","userInfo"}
//	                                                        (AES-128-CBC with the user's current session_key, watermark {appid,timestamp})
//	POST /_emulator/apps/{appid}/getPhoneNumber             {"openid"} → {"code"} (for getuserphonenumber, 5 minutes)
//	POST /_emulator/apps/{appid}/wx.requestSubscribeMessage {"openid","tmplIds":[...],"reject":false}
//	                                                        → {"errMsg":"requestSubscribeMessage:ok","<id>":"accept"}
//
// The control API simulates an Official Account's subscription dialog
// (wx-open-subscribe, articles) and notification settings; each answer is
// pushed as subscribe_msg_popup_event or subscribe_msg_change_event:
//
//	POST /_emulator/apps/{appid}/subscribe-popup {"openid","template_id","accept":true,"scene":1,"settings":false}
//	                                             → {"openid","template_id","status":"accept","push":PushResult}
//	GET  /_emulator/apps/{appid}/templates       → {"templates":[...],"subscribe_templates":[...]}
//
// # Open Platform
//
// Components (YAML "components:", see ComponentConfig) are third-party
// platforms. Each is pushed a fresh component_verify_ticket every 10
// minutes of emulator time (valid 12 hours), encrypted with its key and
// signed with its token; the authorized, updateauthorized and unauthorized
// events go to the same push_url. While an account is authorized to a
// platform with a message_url, its messages go there ($APPID$ replaced), in
// safe mode with the platform's token and key, the ciphertext carrying the
// platform's AppID. Control API:
//
//	GET   /_emulator/components                                  {"components":[ComponentInfo...]}
//	GET   /_emulator/components/{component_appid}                ComponentInfo (latest ticket, authorizers, pushes)
//	PATCH /_emulator/components/{component_appid}                {"push_url","message_url"} → ComponentInfo
//	POST  /_emulator/components/{component_appid}/ticket         → ComponentPush (a fresh ticket pushed now)
//	POST  /_emulator/components/{component_appid}/authorize      {"authorizer_appid","pre_auth_code","redirect_uri"}
//	                                                             → {"redirect","auth_code","expires_in","event"}
//	POST  /_emulator/components/{component_appid}/unauthorize    {"authorizer_appid"} → {"event"}
//	POST  /_emulator/components/{component_appid}/release-check  {"authorizer_appid","timeout":"10s"}
//	                                                             → {"passed":true,"steps":[{"name","passed","detail"}]}
//
// authorize acts as the account's admin approving on the page opened with
// pre_auth_code (redirect_uri may be left out once the page was opened);
// release-check runs WeChat's release check (全网发布) against the
// platform's servers: see ReleaseCheck.
//
// # WeChat Pay
//
// Merchants (Config.Merchants, YAML "merchants:") are served v2 (XML) at
// /pay/unifiedorder, /pay/orderquery, /pay/closeorder, /secapi/pay/refund and
// /pay/refundquery, and v3 (JSON) at POST /v3/pay/transactions/jsapi and
// /native, GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid= and
// /id/{transaction_id}?mchid=, POST
// /v3/pay/transactions/out-trade-no/{out_trade_no}/close, POST
// /v3/refund/domestic/refunds, GET /v3/refund/domestic/refunds/{out_refund_no}
// and GET /v3/certificates; see pay_v2.go and pay_v3.go for what is checked.
// Pay and refund notifies are pushed to the order's notify_url and retried
// on the platform's schedule on the emulator clock until acknowledged.
//
// Control API (JSON):
//
//	GET  /_emulator/merchants                                   {"merchants":[MerchantInfo...]}
//	GET  /_emulator/merchants/{mch_id}/platform_key             {"public_key_id","public_key_pem","serial_no","certificate_pem",...}
//	GET  /_emulator/merchants/{mch_id}/merchant_key             {"serial_no","private_key_pem","certificate_pem",...}
//	                                                            (development only: merchants with generate_merchant_key)
//	GET  /_emulator/merchants/{mch_id}/orders/{out_trade_no}    OrderInfo {"out_trade_no","state","amount","transaction_id",
//	                                                            "notifies":[{"at","http_status","body",...}],...}
//	POST /_emulator/merchants/{mch_id}/orders/{out_trade_no}/notify  {"copies":N} → {"notifies":[...]} (N copies at once
//	                                                            of the pay notify; with "out_refund_no": of that refund's)
//	POST /_emulator/merchants/{mch_id}/refunds/{out_refund_no}/fail  {"status":"CLOSED"|"ABNORMAL"} → RefundInfo (a
//	                                                            PROCESSING refund fails; its notify follows)
//	GET  /_emulator/pay/{prepay_id}                             OrderInfo (the pay sheet: merchant_name, description, amount)
//	POST /_emulator/pay/{prepay_id}/pay                         {"openid","coupons","bank_type","pay_params"} → {"transaction_id"}
//	POST /_emulator/pay/{prepay_id}/decline                     {"fail":false} → {"state"} (cancel; fail=true → PAYERROR)
//
// Errors are {"error":"..."}: 404 unknown merchant, order, refund or
// prepay_id; 409 an order that cannot be paid (expired prepay_id, paid,
// closed, another user's) or a refund no longer PROCESSING; 400 a bad
// request or pay_params that do not verify.
//
// A refund succeeds after the merchant's refund_delay; to see one fail,
// fail it while PROCESSING (give the merchant a refund_delay): CLOSED
// gives its amount back to the order's refundable amount, ABNORMAL keeps
// it (the money waits on the platform); see Emulator.FailRefund.
package emulator
