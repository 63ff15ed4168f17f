package wxkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := map[string]string{"": "", "short": "***", "12345678": "***", "ACCESS_TOKEN_VALUE": "ACCE***"}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	const value = "s3cr3t-appsecret-0123456789"
	s := Secret(value)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", s)
	buf.WriteString(fmt.Sprint(s))
	buf.WriteString(fmt.Sprintf("%v %s", s, s))
	if strings.Contains(buf.String(), value) {
		t.Fatalf("secret leaked: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "s3cr***") {
		t.Errorf("redacted form missing: %s", buf.String())
	}
}

func TestScrubError(t *testing.T) {
	t.Parallel()
	const tok, secret = "ACCESS_TOKEN_abcdefghijklmnop", "appsecret-0123456789"
	urlErr := &url.Error{Op: "Get", URL: "https://api.weixin.qq.com/cgi-bin/menu/get?access_token=" + tok, Err: context.DeadlineExceeded}
	tests := []struct {
		name      string
		err       error
		wantIs    error
		wantAsAPI bool
	}{
		{"url error with token in query", fmt.Errorf("wxkit: GET cgi-bin/menu/get: %w", urlErr), context.DeadlineExceeded, false},
		{"secret in message", fmt.Errorf("bad secret %s: %w", secret, context.Canceled), context.Canceled, false},
		{"api error without secret", &APIError{ErrCode: 40001, ErrMsg: "invalid credential"}, ErrInvalidCredential, true},
		{"api error echoing the token", &APIError{ErrCode: 40001, ErrMsg: "invalid credential " + tok}, ErrInvalidCredential, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ScrubError(tt.err, secret, tok)
			if strings.Contains(got.Error(), tok) || strings.Contains(got.Error(), secret) || strings.Contains(got.Error(), "?access_token") {
				t.Errorf("ScrubError(%v) = %q, still holds a secret", tt.err, got)
			}
			if tt.wantIs != nil && !errors.Is(got, tt.wantIs) {
				t.Errorf("ScrubError(%v) lost %v", tt.err, tt.wantIs)
			}
			if _, ok := errors.AsType[*APIError](got); ok != tt.wantAsAPI {
				t.Errorf("errors.AsType[*APIError](ScrubError(%v)) = %v, want %v", tt.err, ok, tt.wantAsAPI)
			}
		})
	}
	if ScrubError(nil, secret) != nil {
		t.Errorf("ScrubError(nil) != nil")
	}
}

// TestScrubErrorKeepsAPIError: an errmsg that echoes a secret is scrubbed,
// and the error still matches its errcode.
func TestScrubErrorKeepsAPIError(t *testing.T) {
	t.Parallel()
	const secret = "appsecret-0123456789"
	err := fmt.Errorf("wxkit: GET cgi-bin/token: %w", &APIError{ErrCode: 40125, ErrMsg: "invalid appsecret " + secret, Method: "GET", Path: "cgi-bin/token"})
	got := ScrubError(err, secret)
	if strings.Contains(got.Error(), secret) {
		t.Fatalf("ScrubError(...) = %q, still carries the secret", got)
	}
	ae, ok := errors.AsType[*APIError](got)
	if !ok || ae.ErrCode != 40125 || strings.Contains(ae.ErrMsg, secret) {
		t.Errorf("errors.As(scrubbed) = %+v, %v; want the APIError 40125 with a scrubbed errmsg", ae, ok)
	}
	if !errors.Is(got, &APIError{ErrCode: 40125}) {
		t.Error("errors.Is(scrubbed, errcode 40125) = false")
	}
}
