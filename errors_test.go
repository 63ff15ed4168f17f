package wxkit

import (
	"bufio"
	"errors"
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
	if got, want := apiErr.Error(), "wxkit: POST cgi-bin/menu/create: errcode 40001: invalid credential rid: 1-2-3"; got != want {
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
