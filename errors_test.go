package wxkit

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/internal/corpus"
)

func TestDecodeResponse(t *testing.T) {
	t.Parallel()
	type tokenReply struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	tests := []struct {
		name    string
		body    string
		want    tokenReply
		wantErr error
	}{
		{"corpus token", string(corpus.ReadFile(t, "api", "cgi-bin_token.json")), tokenReply{"1234567890", 7200}, nil},
		{"errcode 0 with fields", `{"errcode":0,"errmsg":"ok","access_token":"A","expires_in":7}`, tokenReply{"A", 7}, nil},
		{"expired", `{"errcode":42001,"errmsg":"access_token expired rid: 6512ab-1"}`, tokenReply{}, ErrAccessTokenExpired},
		{"busy", `{"errcode":-1,"errmsg":"system error"}`, tokenReply{}, ErrSystemBusy},
		{"quota", `{"errcode":45009,"errmsg":"reach max api daily quota limit rid: x"}`, tokenReply{}, ErrAPIDailyQuota},
		// An error reply's other fields are decoded too (45065 names a msg_id).
		{"error with fields", `{"errcode":-1,"errmsg":"system error","expires_in":3}`, tokenReply{ExpiresIn: 3}, ErrSystemBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got tokenReply
			err := DecodeResponse([]byte(tt.body), "GET", "cgi-bin/token", &got)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("DecodeResponse(%s) error = %v, want %v", tt.body, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeResponse(%s) mismatch (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestDecodeResponseErrorFields(t *testing.T) {
	t.Parallel()
	err := DecodeResponse([]byte(`{"errcode":40001,"errmsg":"invalid credential rid: 1-2-3"}`), "POST", "cgi-bin/menu/create", nil)
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok {
		t.Fatalf("error %T is not *APIError", err)
	}
	if apiErr.ErrCode != 40001 || apiErr.Method != "POST" || apiErr.Path != "cgi-bin/menu/create" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if got, want := apiErr.Reason(), "invalid credential"; got != want {
		t.Errorf("Reason() = %q, want %q", got, want)
	}
	if apiErr.ErrMsg != "invalid credential rid: 1-2-3" || apiErr.RID != "1-2-3" {
		t.Errorf("ErrMsg, RID = %q, %q; want the errmsg as sent and its rid", apiErr.ErrMsg, apiErr.RID)
	}
	if got, want := apiErr.Error(), "wxkit: POST cgi-bin/menu/create: errcode 40001: invalid credential (rid 1-2-3)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !IsTokenRejected(err) || IsRetryable(err) {
		t.Errorf("IsTokenRejected/IsRetryable wrong for 40001")
	}
	if errors.Is(err, ErrAccessTokenExpired) {
		t.Errorf("40001 matched 42001")
	}
}

func TestDecodeResponseNotJSON(t *testing.T) {
	t.Parallel()
	err := DecodeResponse([]byte("<html>bad gateway</html>"), "GET", "cgi-bin/token", nil)
	if err == nil || !strings.Contains(err.Error(), "cgi-bin/token") {
		t.Fatalf("DecodeResponse(html) = %v, want a decode error naming the call", err)
	}
	if _, ok := errors.AsType[*APIError](err); ok {
		t.Errorf("non-JSON reply became an *APIError")
	}
}

// Every sentinel's errcode appears in the official errcode tables.
func TestSentinelsAreOfficialCodes(t *testing.T) {
	t.Parallel()
	known := map[int]bool{}
	for _, name := range []string{"errcodes.tsv", "errcodes_open.tsv"} {
		sc := bufio.NewScanner(strings.NewReader(string(corpus.ReadFile(t, name))))
		sc.Scan() // header
		for sc.Scan() {
			code, err := strconv.Atoi(strings.SplitN(sc.Text(), "\t", 2)[0])
			if err == nil {
				known[code] = true
			}
		}
	}
	if len(known) < 50 {
		t.Fatalf("errcode tables hold only %d codes", len(known))
	}
	for _, s := range []*APIError{ErrSystemBusy, ErrInvalidCredential, ErrInvalidGrantType, ErrInvalidOpenID,
		ErrInvalidMediaID, ErrInvalidAppID, ErrInvalidAccessToken, ErrInvalidCode, ErrInvalidRefreshToken,
		ErrCodeBeenUsed, ErrAccessTokenMissing, ErrAccessTokenExpired, ErrRefreshTokenExpired, ErrRequireSubscribe,
		ErrAPIDailyQuota, ErrAPIMinuteQuota, ErrResponseOutOfTime, ErrMediaNotFound, ErrInvalidJSON, ErrAPIUnauthorized,
		ErrConditionalMenuMissing} {
		if !known[s.ErrCode] {
			t.Errorf("sentinel %d (%s) is not in the official tables", s.ErrCode, s.ErrMsg)
		}
	}
}

func TestReadLimited(t *testing.T) {
	t.Parallel()
	if b, err := ReadLimited(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadLimited(5 bytes, 5) = %q, %v", b, err)
	}
	if _, err := ReadLimited(strings.NewReader("123456"), 5); err == nil {
		t.Errorf("ReadLimited(6 bytes, 5) = nil error, want an error")
	}
}

// Errmsg shapes of the real platform (docs/PLATFORM.md and replies quoted in
// public code): the request id is split off the end, in both forms, and
// nothing else is.
func TestSplitRID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, msg, reason, rid string
	}{
		{"rid", "invalid credential, access_token is invalid or not latest rid: 62690257-2894b530-58c6fcf3",
			"invalid credential, access_token is invalid or not latest", "62690257-2894b530-58c6fcf3"},
		{"daily quota", "reach max api daily quota limit rid: 6523d1a2-2b9e1f4a-4b2d3c1e",
			"reach max api daily quota limit", "6523d1a2-2b9e1f4a-4b2d3c1e"},
		{"daily quota with link", "reach max api daily quota limit, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r rid: 6523d1a2-2b9e1f4a-4b2d3c1e",
			"reach max api daily quota limit, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r", "6523d1a2-2b9e1f4a-4b2d3c1e"},
		{"whitelist", "invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist rid: 6523d1a2-2b9e1f4a-4b2d3c1e",
			"invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist", "6523d1a2-2b9e1f4a-4b2d3c1e"},
		{"short rid", "invalid credential, access_token is invalid or not latest rid: 63021398-4f265650-6e8",
			"invalid credential, access_token is invalid or not latest", "63021398-4f265650-6e8"},
		{"old hint", "invalid credential, access_token is invalid or not latest hint: [lIz5Ca0983vr57!]",
			"invalid credential, access_token is invalid or not latest", "lIz5Ca0983vr57!"},
		{"old hint with dot", "invalid credential, access_token is invalid or not latest hint: [41.K9a0306ent2]",
			"invalid credential, access_token is invalid or not latest", "41.K9a0306ent2"},
		{"hint then rid", "invalid appid hint: [E_B_5a0505dx24] rid: 6523d1a2-2b9e1f4a-4b2d3c1e",
			"invalid appid", "6523d1a2-2b9e1f4a-4b2d3c1e"},
		{"trailing space", "system error rid: 6523d1a2-2b9e1f4a-4b2d3c1e \n", "system error", "6523d1a2-2b9e1f4a-4b2d3c1e"},
		{"only a rid", "rid: 6523d1a2-2b9e1f4a-4b2d3c1e", "", "6523d1a2-2b9e1f4a-4b2d3c1e"},
		{"plain", "system error", "system error", ""},
		{"empty", "", "", ""},
		{"Hint in the text", "invalid user-card status! Hint: the  card was given to user, but may be deleted or expired or set unavailable !",
			"invalid user-card status! Hint: the  card was given to user, but may be deleted or expired or set unavailable !", ""},
		{"brackets in the text", "invalid update_type, please use [bind] or [unbind]", "invalid update_type, please use [bind] or [unbind]", ""},
		{"rid without id", "system error rid: ", "system error rid:", ""},
		{"rid mid-text", "bad rid: x in the middle", "bad rid: x in the middle", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, rid := splitRID(tt.msg)
			if reason != tt.reason || rid != tt.rid {
				t.Errorf("splitRID(%q) = %q, %q; want %q, %q", tt.msg, reason, rid, tt.reason, tt.rid)
			}
		})
	}
}

// Every English errmsg of the official Open Platform table: alone it has no
// request id and is its own reason; with either suffix the platform adds,
// the suffix is split off and the errmsg comes back whole.
func TestSplitRIDCorpus(t *testing.T) {
	t.Parallel()
	sc := bufio.NewScanner(strings.NewReader(string(corpus.ReadFile(t, "errcodes_open.tsv"))))
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 2 || strings.TrimSpace(f[1]) == "" {
			continue
		}
		msg := strings.TrimSpace(f[1])
		n++
		for _, tc := range []struct{ suffix, rid string }{
			{"", ""},
			{" rid: 6523d1a2-2b9e1f4a-4b2d3c1e", "6523d1a2-2b9e1f4a-4b2d3c1e"},
			{" hint: [AnYtgA0963age5]", "AnYtgA0963age5"},
		} {
			if reason, rid := splitRID(msg + tc.suffix); reason != msg || rid != tc.rid {
				t.Errorf("errcode %s: splitRID(%q) = %q, %q; want %q, %q", f[0], msg+tc.suffix, reason, rid, msg, tc.rid)
			}
		}
	}
	if n < 100 {
		t.Fatalf("errcodes_open.tsv holds only %d English errmsgs", n)
	}
}

func TestAPIErrorError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *APIError
		want string
	}{
		{"decoded", &APIError{ErrCode: -1, ErrMsg: "system error rid: 6523d1a2-2b9e1f4a-4b2d3c1e", RID: "6523d1a2-2b9e1f4a-4b2d3c1e", Method: "POST", Path: "cgi-bin/message/custom/send"},
			"wxkit: POST cgi-bin/message/custom/send: errcode -1: system error (rid 6523d1a2-2b9e1f4a-4b2d3c1e)"},
		{"RID not set", &APIError{ErrCode: 40013, ErrMsg: "invalid appid hint: [HrLAda0256vr21]"},
			"wxkit: errcode 40013: invalid appid (rid HrLAda0256vr21)"},
		{"no rid", &APIError{ErrCode: 48001, ErrMsg: "api unauthorized", Method: "GET", Path: "cgi-bin/menu/get"},
			"wxkit: GET cgi-bin/menu/get: errcode 48001: api unauthorized"},
		{"sentinel", ErrSystemBusy, "wxkit: errcode -1: system error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// The predicates see an *APIError however deeply it is wrapped.
func TestPredicatesOnWrappedErrors(t *testing.T) {
	t.Parallel()
	decoded := func(body string) error {
		return DecodeResponse([]byte(body), "POST", "cgi-bin/message/custom/send", nil)
	}
	expired := decoded(`{"errcode":42001,"errmsg":"access_token expired rid: 6523d1a2-2b9e1f4a-4b2d3c1e"}`)
	busy := decoded(`{"errcode":-1,"errmsg":"system error rid: 6523d1a2-2b9e1f4a-4b2d3c1e"}`)
	quota := decoded(`{"errcode":45011,"errmsg":"api minute-quota reach limit, must slower, retry next minute rid: 6523d1a2-2b9e1f4a-4b2d3c1e"}`)
	other := decoded(`{"errcode":45009,"errmsg":"reach max api daily quota limit rid: 6523d1a2-2b9e1f4a-4b2d3c1e"}`)
	tests := []struct {
		name                     string
		err                      error
		tokenRejected, retryable bool
	}{
		{"expired", expired, true, false},
		{"expired wrapped", fmt.Errorf("gateway: late reply: %w", expired), true, false},
		{"expired wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", expired)), true, false},
		{"expired joined", errors.Join(errors.New("other"), expired), true, false},
		{"busy wrapped", fmt.Errorf("send: %w", busy), false, true},
		{"quota wrapped", fmt.Errorf("send: %w", quota), false, true},
		{"daily quota wrapped", fmt.Errorf("send: %w", other), false, false},
		{"not an APIError", errors.New("errcode 42001"), false, false},
		{"nil", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTokenRejected(tt.err); got != tt.tokenRejected {
				t.Errorf("IsTokenRejected(%v) = %v, want %v", tt.err, got, tt.tokenRejected)
			}
			if got := IsRetryable(tt.err); got != tt.retryable {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.retryable)
			}
		})
	}
}
