package pay

import (
	"errors"
	"strings"
	"testing"
)

// refundNotifyBody encrypts plaintext with key into a refund notify.
func refundNotifyBody(t *testing.T, key, plaintext string, outer map[string]string) []byte {
	t.Helper()
	ri, err := EncryptRefundReqInfo(key, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{"return_code": "SUCCESS", "appid": testAppID, "mch_id": testMchID, "nonce_str": testNonce, "req_info": ri}
	for k, v := range outer {
		m[k] = v
	}
	return wireRender(m)
}

func refundPlain(status string, drop ...string) string {
	f := map[string]string{
		"transaction_id": "4200000483202001042069747825", "out_trade_no": "T1", "refund_id": "50300103182020010413419046597",
		"out_refund_no": "R1", "total_fee": "100", "settlement_total_fee": "100", "refund_fee": "40",
		"settlement_refund_fee": "40", "refund_status": status, "success_time": "2025-03-02 09:10:11",
		"refund_recv_accout": "支付用户零钱", "refund_account": "REFUND_SOURCE_RECHARGE_FUNDS", "refund_request_source": "API",
	}
	var b strings.Builder
	b.WriteString("<root>")
	for k, v := range without(f, drop...) {
		b.WriteString("<" + k + "><![CDATA[" + v + "]]></" + k + ">")
	}
	b.WriteString("</root>")
	return b.String()
}

func TestParseRefundNotify(t *testing.T) {
	t.Parallel()
	for _, status := range []RefundStatus{RefundStatusSuccess, RefundStatusChange, RefundStatusRefundClose} {
		t.Run(string(status), func(t *testing.T) {
			t.Parallel()
			pt := refundPlain(string(status))
			n, err := ParseRefundNotify(refundNotifyBody(t, testKey, pt, nil), testKey)
			if err != nil {
				t.Fatalf("ParseRefundNotify = %v", err)
			}
			info := wireParseRoot(t, pt)
			checkRefundNotifyTyped(t, n, info)
			if n.AppID != testAppID || n.MchID != testMchID || n.NonceStr != testNonce {
				t.Errorf("outer fields = %s, %s, %s", n.AppID, n.MchID, n.NonceStr)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		good := refundNotifyBody(t, testKey, refundPlain("SUCCESS"), nil)
		notXML, err := EncryptRefundReqInfo(testKey, []byte("hello, world"))
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			body []byte
			key  string
			want error
		}{
			{"another merchant's key", good, "another-key", ErrInvalidReqInfo},
			{"no req_info", wireRender(map[string]string{"return_code": "SUCCESS", "appid": testAppID}), testKey, ErrInvalidReqInfo},
			{"req_info not base64", refundNotifyBody(t, testKey, "", map[string]string{"req_info": "!!!"}), testKey, ErrInvalidReqInfo},
			{"req_info not whole blocks", refundNotifyBody(t, testKey, "", map[string]string{"req_info": "YWJj"}), testKey, ErrInvalidReqInfo},
			{"plaintext not XML", refundNotifyBody(t, testKey, "", map[string]string{"req_info": notXML}), testKey, ErrInvalidReqInfo},
			{"no refund_id", refundNotifyBody(t, testKey, refundPlain("SUCCESS", "refund_id"), nil), testKey, ErrInvalidReqInfo},
			{"no refund_status", refundNotifyBody(t, testKey, refundPlain("SUCCESS", "refund_status"), nil), testKey, ErrInvalidReqInfo},
			{"refund_fee not a number", refundNotifyBody(t, testKey, strings.Replace(refundPlain("SUCCESS"), "[40]", "[4O]", 1), nil), testKey, ErrMalformed},
			{"not XML", []byte("return_code=SUCCESS"), testKey, ErrMalformed},
			{"too large", []byte("<xml><a>" + strings.Repeat("x", MaxNotifyBytes) + "</a></xml>"), testKey, ErrMalformed},
		}
		for _, tt := range tests {
			if n, err := ParseRefundNotify(tt.body, tt.key); !errors.Is(err, tt.want) || n != nil {
				t.Errorf("%s: ParseRefundNotify = %v, %v; want nil, %v", tt.name, n, err, tt.want)
			}
		}
		fail := wireRender(map[string]string{"return_code": "FAIL", "return_msg": "x"})
		if _, err := ParseRefundNotify(fail, testKey); !errors.As(err, new(*ReturnError)) {
			t.Errorf("ParseRefundNotify(return_code FAIL) = %v, want a *ReturnError", err)
		}
	})
	t.Run("client", func(t *testing.T) {
		t.Parallel()
		c, err := NewClient(testAppID, testMchID, testKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ParseRefundNotify(refundNotifyBody(t, testKey, refundPlain("SUCCESS"), nil)); err != nil {
			t.Errorf("Client.ParseRefundNotify = %v", err)
		}
		other := refundNotifyBody(t, testKey, refundPlain("SUCCESS"), map[string]string{"mch_id": "1900000999"})
		if _, err := c.ParseRefundNotify(other); !errors.Is(err, ErrMismatch) {
			t.Errorf("Client.ParseRefundNotify(another mch_id) = %v, want ErrMismatch", err)
		}
	})
}

// wireParseRoot parses a <root> document with the platform-side parser.
func wireParseRoot(t *testing.T, doc string) map[string]string {
	t.Helper()
	return wireParse(t, []byte(strings.Replace(strings.Replace(doc, "<root>", "<xml>", 1), "</root>", "</xml>", 1)))
}

func TestReqInfoPadding(t *testing.T) {
	t.Parallel()
	// Every plaintext length mod 16 round-trips, and a flipped padding
	// byte is refused.
	for n := range 33 {
		pt := strings.Repeat("a", n)
		enc, err := EncryptRefundReqInfo(testKey, []byte(pt))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecryptRefundReqInfo(testKey, enc)
		if err != nil || string(got) != pt {
			t.Errorf("round trip of %d bytes = %q, %v", n, got, err)
		}
	}
	for _, bad := range [][]byte{{0}, {17}, {2, 3}} {
		// A last block whose padding is malformed, encrypted as is.
		block := make([]byte, 16)
		copy(block[16-len(bad):], bad)
		enc, err := EncryptRefundReqInfo(testKey, block)
		if err != nil {
			t.Fatal(err)
		}
		// Drop the full padding block EncryptRefundReqInfo added.
		raw := mustB64(t, enc)[:16]
		if _, err := DecryptRefundReqInfo(testKey, b64(raw)); !errors.Is(err, ErrInvalidReqInfo) {
			t.Errorf("padding %v: DecryptRefundReqInfo = %v, want ErrInvalidReqInfo", bad, err)
		}
	}
}
