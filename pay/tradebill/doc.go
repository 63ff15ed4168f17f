// Package tradebill reads WeChat Pay trade bills (交易账单, 对账单): the
// merchant's daily reconciliation file, downloaded through v2
// (pay.Client.DownloadBill, POST pay/downloadbill) or v3
// (payv3.Client.TradeBill and DownloadBill, GET v3/bill/tradebill). Both
// APIs deliver the same text, which Parse turns into typed rows and the
// summary.
//
// The file has four parts, each a line of comma-separated fields:
//
//	交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,...   detail header
//	`2014-11-10 16:33:45,`wx2421b1c4370ec43b,`10000100,`0,...              one line per payment or refund
//	总交易单数,应结订单总金额,退款总金额,...                                  summary header
//	`2,`0.02,`0.00,...                                                    summary
//
// Every data field starts with a backtick (so that spreadsheets keep long
// numbers as text). Amounts are in yuan with two or more decimals
// ("0.01", "0.00000"); Parse converts them to int64 fen exactly, without
// floating point, and refuses an amount that is not a whole number of fen.
// Columns are found by their header names, so the three bill types (ALL,
// SUCCESS, REFUND) and the older format of some merchants (总金额 and
// 代金券或立减优惠金额 instead of 应结订单金额 and 代金券金额) all parse;
// a column Parse does not know stays in Row.Raw.
//
// WeChat docs:
//   - https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6 (v2 downloadbill)
//   - https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html (v3 tradebill)
//   - https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html (the file format)
package tradebill
