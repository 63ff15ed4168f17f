package tradebill

import (
	"bytes"
	"compress/gzip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func china(t *testing.T, v string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04:05", v, time.FixedZone("UTC+8", 8*3600))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// ignoreRaw leaves the Raw maps out of comparisons (checked apart).
var ignoreRaw = cmpopts.IgnoreFields(Row{}, "Raw")

// TestParseDocSampleV2 parses the sample of the v2 downloadbill doc, in the
// older format.
func TestParseDocSampleV2(t *testing.T) {
	t.Parallel()
	b, err := Parse(readSample(t, "downloadbill_v2_doc.csv"))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	row := func(tm, txn, out, openid string) Row {
		return Row{
			TradeTime: china(t, tm), AppID: "wx2421b1c4370ec43b", MchID: "10000100", SubMchID: "0", DeviceInfo: "1000",
			TransactionID: txn, OutTradeNo: out, OpenID: openid, TradeType: "MICROPAY", TradeState: "SUCCESS",
			BankType: "OTHERS", FeeType: "CNY", SettlementTotalFee: 1, RefundID: "0", OutRefundNo: "0",
			Body: "被扫支付测试", Attach: "订单额外描述", Rate: "0.60%",
		}
	}
	want := []Row{
		row("2014-11-10 16:33:45", "1001690740201411100005734289", "1415640626", "085e9858e3ba5186aafcbaed1"),
		row("2014-11-10 16:46:14", "1002780740201411100005729794", "1415635270", "085e9858e90ca40c0b5aee463"),
	}
	if d := cmp.Diff(want, b.Rows, ignoreRaw); d != "" {
		t.Errorf("Rows (-want +got):\n%s", d)
	}
	if got := b.Rows[0].Raw["代金券或立减优惠金额"]; got != "0.0" {
		t.Errorf("Raw[代金券或立减优惠金额] = %q, want 0.0", got)
	}
	wantSum := Summary{Count: 2, SettlementTotalFee: 2}
	if d := cmp.Diff(wantSum, b.Summary, cmpopts.IgnoreFields(Summary{}, "Raw")); d != "" {
		t.Errorf("Summary (-want +got):\n%s", d)
	}
	if len(b.Header) != 24 || b.Header[12] != "总金额" || len(b.SummaryHeader) != 5 {
		t.Errorf("Header = %q, SummaryHeader = %q", b.Header, b.SummaryHeader)
	}
}

// TestParseDocSampleCurrent parses the current ALL format (27 columns).
func TestParseDocSampleCurrent(t *testing.T) {
	t.Parallel()
	b, err := Parse(readSample(t, "downloadbill_cloud_doc.csv"))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	want := []Row{{
		TradeTime: china(t, "2022-03-21 13:51:31"), AppID: "wxfdc955f7104ad557", MchID: "180023671", SubMchID: "176531292",
		TransactionID: "420000612032130748613220688", OutTradeNo: "2021WERUN1647840687637", OpenID: "oZWaCKXip5njeEiloC4oeOV1TTsk",
		TradeType: "JSAPI", TradeState: "SUCCESS", BankType: "OTHERS", FeeType: "CNY", SettlementTotalFee: 1,
		RefundID: "0", OutRefundNo: "0", Body: "微信云托管支付测试", Rate: "0.90%", TotalFee: 1,
	}}
	if d := cmp.Diff(want, b.Rows, ignoreRaw); d != "" {
		t.Errorf("Rows (-want +got):\n%s", d)
	}
	wantSum := Summary{Count: 12, SettlementTotalFee: 6, RefundFee: 6, TotalFee: 6, ApplyRefundFee: 6}
	if d := cmp.Diff(wantSum, b.Summary, cmpopts.IgnoreFields(Summary{}, "Raw")); d != "" {
		t.Errorf("Summary (-want +got):\n%s", d)
	}
	if got := b.Summary.Raw["手续费总金额"]; got != "0.00000" {
		t.Errorf("Summary.Raw[手续费总金额] = %q", got)
	}
}

// TestParseRefundRowAndUnknownColumn: a refund row with a negative fee, a
// comma in a product name, CRLF line ends, a BOM, and a column Parse does
// not know, kept in Raw.
func TestParseRefundRowAndUnknownColumn(t *testing.T) {
	t.Parallel()
	text := "\ufeff交易时间,微信订单号,商户订单号,交易状态,应结订单金额,微信退款单号,商户退款单号,退款金额,退款类型,退款状态,商品名称,手续费,费率,订单金额,申请退款金额,新字段\r\n" +
		"`2024-05-02 09:00:01,`4200001,`o1,`REFUND,`0.00,`5030001,`r1,`12.34,`ORIGINAL,`SUCCESS,`A, B and C,`-0.07000,`0.60%,`0.00,`12.34,`x\r\n" +
		"总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n" +
		"`1,`0.00,`12.34,`0.00,`-0.07000,`0.00,`12.34\r\n"
	b, err := Parse([]byte(text))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	r := b.Rows[0]
	if r.SettlementRefundFee != 1234 || r.RefundFee != 1234 || r.Fee != -7 || r.Body != "A, B and C" || r.Raw["新字段"] != "x" ||
		r.RefundType != "ORIGINAL" || r.OutRefundNo != "r1" {
		t.Errorf("row = %+v", r)
	}
	if b.Summary.Fee != -7 || b.Summary.RefundFee != 1234 || b.Summary.Count != 1 {
		t.Errorf("summary = %+v", b.Summary)
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"", 0, false}, {"0", 0, false}, {"0.0", 0, false}, {"0.01", 1, false}, {"0.1", 10, false},
		{"12.34", 1234, false}, {"1.00000", 100, false}, {"-0.01000", -1, false}, {"+3", 300, false},
		{"99999999.99", 9999999999, false}, {"0.10000", 10, false},
		{"0.005", 0, true}, {"0.00001", 0, true}, {"1e3", 0, true}, {".5", 0, true}, {"-", 0, true},
		{"1.2.3", 0, true}, {"¥1", 0, true}, {" 1", 0, true}, {"99999999999999999999", 0, true},
		{"92233720368547758.07", 0, true},
	} {
		got, err := ParseAmount(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if !tc.err {
			back, err := ParseAmount(FormatAmount(got))
			if err != nil || back != got {
				t.Errorf("ParseAmount(FormatAmount(%d)) = %d, %v", got, back, err)
			}
		}
	}
	if got := FormatAmount(-1); got != "-0.01" {
		t.Errorf("FormatAmount(-1) = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const head = "交易时间,商户订单号,应结订单金额\n"
	const sum = "总交易单数,应结订单总金额\n`1,`0.01\n"
	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty", "", "empty bill"},
		{"blank", "\n\r\n", "empty bill"},
		{"xml", "<xml><return_code><![CDATA[FAIL]]></return_code></xml>", "not a bill"},
		{"data first", "`1,`2\n", "want the detail header"},
		{"no summary", head + "`2024-05-02 09:00:01,`o1,`0.01\n", "no summary header"},
		{"no summary line", head + "`2024-05-02 09:00:01,`o1,`0.01\n总交易单数,应结订单总金额\n", "without a summary line"},
		{"short row", head + "`2024-05-02 09:00:01,`o1\n" + sum, "line 2: 2 fields, the header has 3"},
		{"bad amount", head + "`2024-05-02 09:00:01,`o1,`0.015\n" + sum, "line 2: 应结订单金额"},
		{"bad time", head + "`2024/05/02,`o1,`0.01\n" + sum, "line 2: 交易时间"},
		{"bad count", head + "总交易单数,应结订单总金额\n`x,`0.01\n", "总交易单数"},
		{"bad sum", head + "总交易单数,应结订单总金额\n`1,`abc\n", "应结订单总金额"},
		{"summary without backtick", head + "总交易单数,应结订单总金额\n1,0.01\n", "backtick"},
		{"trailing text", head + sum + "more\n", "unexpected text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestGunzip(t *testing.T) {
	t.Parallel()
	plain := readSample(t, "downloadbill_cloud_doc.csv")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(plain)
	zw.Close()
	if !IsGzip(buf.Bytes()) || IsGzip(plain) {
		t.Fatal("IsGzip wrong")
	}
	got, err := Gunzip(buf.Bytes())
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Gunzip = %q, %v", got, err)
	}
	if _, err := Gunzip(plain); err == nil {
		t.Error("Gunzip(plain text) = nil error")
	}
}

func TestTypeValid(t *testing.T) {
	t.Parallel()
	for _, ty := range []Type{TypeAll, TypeSuccess, TypeRefund, TypeRechargeRefund} {
		if !ty.Valid() {
			t.Errorf("%s.Valid() = false", ty)
		}
	}
	if Type("all").Valid() || Type("").Valid() {
		t.Error("invalid types reported valid")
	}
}
