// Package pay is a client of WeChat Pay API v2 for direct merchants
// (普通商户): XML over HTTPS, signed with the merchant's API key (MD5 or
// HMAC-SHA256), for JSAPI (in the WeChat client), NATIVE (QR code) and MWEB
// (H5) payments.
//
// The flow of a JSAPI payment:
//
//  1. Client.UnifiedOrder creates the order and returns its prepay_id.
//  2. JSAPIParams (or Client.JSAPIParams) signs the front-end parameters a
//     second time, for getBrandWCPayRequest / wx.requestPayment.
//  3. The platform posts the result to notify_url: ParseNotify verifies its
//     sign over every field present, and NotifyReply renders the answer.
//     Client.OrderQuery tells the state when the notify is late.
//  4. Client.CloseOrder closes an order left unpaid; Client.Refund (mutual
//     TLS with the merchant certificate) refunds, ParseRefundNotify decrypts
//     the refund notify's req_info, and Client.RefundQuery queries refunds.
//  5. Client.DownloadBill downloads a day's trade bill (对账单) for
//     reconciliation, parsed by package pay/tradebill.
//
// Signing (Sign, CheckSign, SignString), the XML codec (DecodeXML,
// EncodeXML) and req_info encryption (DecryptRefundReqInfo,
// EncryptRefundReqInfo) are exported for the other side of the wire too
// (a test platform, a notify sender). The emulator does not use them: it
// implements the platform's side independently.
//
// Errors: return_code FAIL is a *ReturnError; result_code FAIL an *Error
// (errors.Is(err, pay.ErrOrderPaid) and the other sentinels match its
// err_code); a reply that may have been acted on but cannot be trusted (its
// sign does not verify, or it was lost in transit) wraps ErrOutcomeUnknown:
// query before retrying, never assume the call failed. Amounts are int64
// fen. No reply, notify or req_info makes the package panic. No error
// carries the API key.
//
// WeChat docs:
//   - https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3 (signing)
//   - https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1 (unifiedorder), 9_2, 9_3, 9_4, 9_5, 9_6 (downloadbill)
//   - https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6 (JSAPI paySign)
//   - https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8 (pay notify)
//   - https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10 (refund notify)
//
// WeChat Pay API v3 (JSON, RSA, AES-GCM) lives under pay/v3.
package pay
