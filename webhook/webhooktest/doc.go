// Package webhooktest builds push requests exactly as WeChat signs and
// encrypts them, reads encrypted replies, and holds the conformance suite
// for webhook.DedupStore implementations ([TestDedupStore]), in the manner
// of net/http/httptest and testing/slogtest.
//
// The request builders panic on invalid arguments (a malformed
// EncodingAESKey), as httptest.NewRequest does: they are for tests.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
package webhooktest
