package gateway

import (
	"bytes"
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/store"
)

// testReqInfo encrypts a v2 refund notify's <root> document as the
// platform does, written here from the documentation: AES-256-ECB keyed
// with the 32 ASCII characters of the lower-case hex MD5 of the API key,
// PKCS#7 padding, base64.
func testReqInfo(t *testing.T, apiKey string, fields map[string]string) string {
	t.Helper()
	sum := md5.Sum([]byte(apiKey))
	block, err := aes.NewCipher([]byte(hex.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("<root>")
	for k, v := range fields {
		fmt.Fprintf(&b, "<%s><![CDATA[%s]]></%s>", k, v, k)
	}
	b.WriteString("</root>")
	pad := aes.BlockSize - b.Len()%aes.BlockSize
	b.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	pt := b.Bytes()
	out := make([]byte, len(pt))
	for i := 0; i < len(pt); i += aes.BlockSize {
		block.Encrypt(out[i:i+aes.BlockSize], pt[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(out)
}

// TestPayRefundNotifies: refund notifies with each final state: SUCCESS
// adds to the order's refunded amount, v2 REFUNDCLOSE / v3 REFUND.CLOSED
// closes the refund and v2 CHANGE / v3 REFUND.ABNORMAL marks it ABNORMAL,
// both leaving the order's money alone; a repeat changes nothing; a
// refund made on the merchant platform (unknown here) is recorded; a
// forged one and one of another amount are refused.
func TestPayRefundNotifies(t *testing.T) {
	for _, version := range []string{PayV2, PayV3} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t, payEnvOptions{version: version, signType: "MD5"})
			ctx := t.Context()
			oc := e.createOrder(t, nil, "Bearer "+e.bearer(t, e.openID), 1000)
			txn, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			now := e.emu.Now()
			for _, no := range []string{"R1closed", "R2abnormal", "R3success"} {
				if err := e.g.Stores().Orders.CreateRefund(ctx, &store.Refund{MchID: e.mchID, OutRefundNo: no, OutTradeNo: oc.OutTradeNo,
					Amount: 100, State: store.RefundStateProcessing, Created: now, Updated: now}); err != nil {
					t.Fatal(err)
				}
			}
			// notify posts a refund notify of out_refund_no with status
			// (the platform's word for this version) for amount fen.
			notify := func(t *testing.T, no, status string, amount int64, key string) (int, string) {
				if version == PayV2 {
					info := testReqInfo(t, key, map[string]string{
						"transaction_id": txn, "out_trade_no": oc.OutTradeNo, "refund_id": "50000" + no, "out_refund_no": no,
						"total_fee": "1000", "refund_fee": fmt.Sprint(amount), "settlement_refund_fee": fmt.Sprint(amount),
						"refund_status": status, "success_time": now.In(chinaTime).Format("2006-01-02 15:04:05"),
						"refund_recv_accout": "支付用户的零钱", "refund_account": "REFUND_SOURCE_RECHARGE_FUNDS", "refund_request_source": "API",
					})
					body := testV2XML(map[string]string{"return_code": "SUCCESS", "appid": e.appID, "mch_id": e.mchID,
						"nonce_str": "TeqClE3i0mvn3DrK", "req_info": info})
					return e.postV2(t, "/pay/refund/notify/"+e.mchID, body)
				}
				plain := map[string]any{"mchid": e.mchID, "out_trade_no": oc.OutTradeNo, "transaction_id": txn,
					"out_refund_no": no, "refund_id": "50000" + no, "refund_status": status,
					"success_time": now.In(chinaTime).Format(time.RFC3339), "user_received_account": "支付用户零钱",
					"amount": map[string]int64{"total": 1000, "refund": amount, "payer_total": 1000, "payer_refund": amount}}
				n := signV3Notify(t, "REFUND."+status, "refund", plain, key, e.emu.Now(), e.platformKey, e.pubKeyID)
				return e.postV3(t, "/pay/v3/notify/"+e.mchID, n)
			}
			closed, abnormal, success := "REFUNDCLOSE", "CHANGE", "SUCCESS"
			key := e.apiKey
			if version == PayV3 {
				closed, abnormal, key = "CLOSED", "ABNORMAL", e.v3Key
			}
			ok := func(status int, body string) bool { return status/100 == 2 && !strings.Contains(body, "FAIL") }
			for _, tc := range []struct {
				name, no, status string
				amount           int64
				key              string
				accepted         bool
				want             store.RefundState // "" for a refund that must not exist
			}{
				{"closed", "R1closed", closed, 100, key, true, store.RefundStateClosed},
				{"closed again", "R1closed", closed, 100, key, true, store.RefundStateClosed},
				{"abnormal", "R2abnormal", abnormal, 100, key, true, store.RefundStateAbnormal},
				{"another amount", "R3success", success, 99, key, false, store.RefundStateProcessing},
				{"forged", "R3success", success, 100, strings.Repeat("f", 32), false, store.RefundStateProcessing},
				{"success", "R3success", success, 100, key, true, store.RefundStateSuccess},
				{"made on the merchant platform", "R4outside", success, 200, key, true, store.RefundStateSuccess},
				{"success of a closed refund", "R1closed", success, 100, key, false, store.RefundStateClosed},
			} {
				status, body := notify(t, tc.no, tc.status, tc.amount, tc.key)
				if ok(status, body) != tc.accepted {
					t.Errorf("%s: answer %d %s, want accepted %v", tc.name, status, body, tc.accepted)
				}
				r, err := e.g.Stores().Orders.Refund(ctx, e.mchID, tc.no)
				if err != nil || r.State != tc.want {
					t.Errorf("%s: refund %s = %+v, %v; want %s", tc.name, tc.no, r, err, tc.want)
				}
			}
			if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateRefund || o.Refunded != 300 {
				t.Errorf("order = %s with %d refunded, want REFUND with 300 (the two successes)", o.State, o.Refunded)
			}
			labels := map[string]string{"mch_id": e.mchID, "version": version}
			for outcome, want := range map[string]float64{payApplied: 5, payDuplicate: 1, payRejected: 3} {
				labels["outcome"] = outcome
				if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != want {
					t.Errorf("wxkit_pay_notifies_total{outcome=%s} = %v, want %v (the pay notify included)", outcome, got, want)
				}
			}
		})
	}
}
