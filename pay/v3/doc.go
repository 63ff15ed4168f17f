// Package payv3 is a client of the WeChat Pay API v3 (JSON, RSA, AES-GCM)
// for a merchant in direct mode: JSAPI and Native prepay, the front end's
// JSAPI parameters, order query and close, refund and refund query, notify
// verification and decryption, and the platform keys that all of it is
// verified with.
//
//	key, _ := payv3.ParsePrivateKeyPEM(apiclientKeyPEM)
//	keys, _ := payv3.NewPublicKeyVerifier("PUB_KEY_ID_0114...", pubKeyPEM)
//	c, _ := payv3.NewClient("1900000109", merchantSerial, key, apiV3Key,
//		payv3.WithPlatformKeys(keys), payv3.WithNotifyURL("https://example.com/pay/v3/notify/1900000109"))
//	pre, err := c.PrepayJSAPI(ctx, &payv3.PrepayRequest{AppID: appID, Description: "T-shirt",
//		OutTradeNo: "20240601123456", Amount: payv3.Amount{Total: 100}, Payer: &payv3.Payer{OpenID: openID}})
//	params, err := c.JSAPIParams(appID, pre.PrepayID) // JSON for getBrandWCPayRequest
//
// Signing. Every request carries "Authorization: WECHATPAY2-SHA256-RSA2048
// mchid=...,nonce_str=...,timestamp=...,serial_no=...,signature=..." where
// signature is SHA256withRSA over "METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n"
// with the merchant's API private key, made afresh for every attempt.
//
// Platform keys. Replies and notifies are signed by WeChat Pay, and name
// the key in Wechatpay-Serial: a platform certificate serial (merchants
// from before late 2024) or a WeChat Pay public key id PUB_KEY_ID_...
// (every merchant since). A Verifier holds both kinds at once (serial →
// key), as a merchant switching from one to the other sees both on
// alternate replies. Certificates can be downloaded and rotated
// (CertificateDownloader, the default when no keys are given); a merchant
// with only a public key has no certificates to download
// (ErrNoPlatformCertificates).
//
// Verification. Every reply is verified (Wechatpay-Signature over
// "TIMESTAMP\nNONCE\nBODY\n", Wechatpay-Timestamp within the tolerance,
// default 5 minutes) before its body is used. A call that changes state
// (prepay, close, refund) is never retried by the client, and when its
// reply cannot be trusted, is a 5xx or never arrives, its error matches
// ErrOutcomeUnknown: the platform may have run it, so query before any
// retry — never treat it as failed. Queries are retried on 5xx, 429 and
// transport errors.
//
// Notifies. ParseNotify (or Client.ParseNotify, NotifyParser) checks the
// headers, the timestamp window and the signature, refreshes the keys once
// on an unknown serial, caps the body, decrypts the AEAD_AES_256_GCM
// resource and decodes a Transaction or a RefundNotice. Matching the
// notify against the order (appid, mchid, amount) and applying it once is
// the caller's.
//
// The signing and verification core is this package's own code on
// crypto/rsa, crypto/aes and crypto/cipher.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
package payv3
