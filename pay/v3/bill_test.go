package payv3

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/pay/tradebill"
)

// tradeBill serves GET v3/bill/tradebill from p.bills.
func (p *platform) tradeBill(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	bill, ok := p.bills[q.Get("bill_date")]
	forced := p.billHash
	p.mu.Unlock()
	if !ok {
		p.fail(w, r, http.StatusBadRequest, "NO_STATEMENT_EXIST", "请求的账单文件不存在")
		return
	}
	sum := sha1.Sum(bill)
	hash := hex.EncodeToString(sum[:])
	if forced != "" {
		hash = forced
	}
	token := q.Get("bill_date")
	if q.Get("tar_type") == "GZIP" {
		token += "&tartype=gzip"
	}
	p.reply(w, r, http.StatusOK, map[string]string{
		"hash_type": "SHA1", "hash_value": hash, "download_url": p.base + "v3/billdownload/file?token=" + token,
	})
}

// billFile serves the download, unsigned, gzipped when asked.
func (p *platform) billFile(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	bill, ok := p.bills[r.URL.Query().Get("token")]
	p.mu.Unlock()
	if !ok {
		p.fail(w, r, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "token无效")
		return
	}
	if r.URL.Query().Get("tartype") == "gzip" {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(bill)
		zw.Close()
		bill = buf.Bytes()
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(bill)
}

func billPlatform(t *testing.T) (*platform, *Client) {
	t.Helper()
	p, base := newPlatform(t, modePublicKey)
	doc, err := os.ReadFile("../tradebill/testdata/downloadbill_cloud_doc.csv")
	if err != nil {
		t.Fatal(err)
	}
	p.bills = map[string][]byte{"2022-03-21": doc}
	return p, newTestClient(t, p, base)
}

func TestTradeBill(t *testing.T) {
	t.Parallel()
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			t.Parallel()
			p, c := billPlatform(t)
			d, err := c.TradeBill(t.Context(), &TradeBillOptions{BillDate: "2022-03-21", Gzip: gz})
			if err != nil {
				t.Fatalf("TradeBill = %v", err)
			}
			if d.HashType != "SHA1" || !strings.Contains(d.DownloadURL, "/prefix/v3/billdownload/file?token=") {
				t.Errorf("TradeBill = %+v", d)
			}
			data, err := c.DownloadBill(t.Context(), d)
			if err != nil {
				t.Fatalf("DownloadBill = %v", err)
			}
			if !bytes.Equal(data, p.bills["2022-03-21"]) {
				t.Errorf("DownloadBill = %q, want the bill", data)
			}
			b, err := c.DownloadTradeBill(t.Context(), &TradeBillOptions{BillDate: "2022-03-21", BillType: tradebill.TypeAll, Gzip: gz})
			if err != nil {
				t.Fatalf("DownloadTradeBill = %v", err)
			}
			if len(b.Rows) != 1 || b.Rows[0].OutTradeNo != "2021WERUN1647840687637" || b.Summary.Count != 12 {
				t.Errorf("bill = %+v", b)
			}
			p.mu.Lock()
			auths := len(p.auths)
			p.mu.Unlock()
			if auths == 0 {
				t.Error("the platform recorded no signed request")
			}
		})
	}
}

func TestDownloadBillHashMismatch(t *testing.T) {
	t.Parallel()
	p, c := billPlatform(t)
	p.billHash = strings.Repeat("ab", 20)
	data, err := c.DownloadTradeBill(t.Context(), &TradeBillOptions{BillDate: "2022-03-21"})
	if !errors.Is(err, ErrBillHash) || data != nil {
		t.Fatalf("DownloadTradeBill = %v, %v; want ErrBillHash and nothing", data, err)
	}
}

func TestTradeBillNoStatement(t *testing.T) {
	t.Parallel()
	_, c := billPlatform(t)
	_, err := c.TradeBill(t.Context(), &TradeBillOptions{BillDate: "2022-03-22"})
	if !errors.Is(err, ErrNoStatementExist) {
		t.Fatalf("TradeBill = %v, want ErrNoStatementExist", err)
	}
}

func TestDownloadBillRefused(t *testing.T) {
	t.Parallel()
	p, c := billPlatform(t)
	sum := sha1.Sum(p.bills["2022-03-21"])
	good := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name string
		d    *BillDownload
		want string
	}{
		{"nil", nil, "nil"},
		{"md5", &BillDownload{HashType: "MD5", HashValue: good, DownloadURL: p.base + "v3/billdownload/file?token=2022-03-21"}, "want SHA1"},
		{"bad hash", &BillDownload{HashType: "SHA1", HashValue: "xyz", DownloadURL: p.base + "v3/billdownload/file?token=2022-03-21"}, "not a hex SHA1"},
		{"other host", &BillDownload{HashType: "SHA1", HashValue: good, DownloadURL: "https://attacker.example/v3/billdownload/file?token=x"}, "not the API's"},
		{"unknown token", &BillDownload{HashType: "SHA1", HashValue: good, DownloadURL: p.base + "v3/billdownload/file?token=nope"}, "RESOURCE_NOT_EXISTS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.DownloadBill(t.Context(), tc.d); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DownloadBill = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for _, o := range []*TradeBillOptions{nil, {}, {BillDate: "20220321"}, {BillDate: "2022-03-21", BillType: "x"}} {
		if _, err := c.TradeBill(t.Context(), o); err == nil {
			t.Errorf("TradeBill(%+v) = nil error", o)
		}
	}
}

func TestBillHost(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testMchID, testMerchantSerial, keys().merchant, testAPIv3Key, WithPlatformKeys(NewVerifier()))
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{
		"https://api.mch.weixin.qq.com/v3/billdownload/file?token=x":      true,
		"https://api2.mch.weixin.qq.com/v3/billdownload/file?token=x":     true,
		"http://api.mch.weixin.qq.com/v3/billdownload/file":               false,
		"https://api.mch.weixin.qq.com.evil.example/v3/billdownload/file": false,
		"https://mch.weixin.qq.com.evil/x":                                false,
	} {
		pu, _ := http.NewRequest("GET", u, nil)
		if got := c.billHost(pu.URL); got != want {
			t.Errorf("billHost(%s) = %v, want %v", u, got, want)
		}
	}
}
