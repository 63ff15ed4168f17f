package wxkit

import (
	"bytes"
	"fmt"
	"log/slog"
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
