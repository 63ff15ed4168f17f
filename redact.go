package wxkit

import "log/slog"

// Secret is a string that must never reach a log line or an error message:
// an AppSecret, an access_token, a session_key, an API key. It logs (through
// slog.LogValuer) and prints (through String) as a redacted form that keeps
// at most the first four characters, so that two values can be told apart
// without being revealed.
type Secret string

// String returns the redacted form, never the value.
func (s Secret) String() string { return Redact(string(s)) }

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redact(string(s))) }

// Redact returns a form of s that is safe to log: "" for "", "***" for a
// value of 8 characters or fewer, and otherwise the first 4 characters
// followed by "***".
func Redact(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) <= 8:
		return "***"
	default:
		return s[:4] + "***"
	}
}
