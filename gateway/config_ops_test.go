package gateway

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOpsConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Limits
	got := []any{cfg.MetricsListen, l.OAuthPerMinute, l.OAuthBurst, l.MaxJSONBodyBytes, time.Duration(*l.TokenInvalidateInterval), len(l.trusted),
		l.AuthFailuresPerMinute, l.AuthFailuresBurst}
	want := []any{"", 60, 20, int64(65536), 30 * time.Second, 0, 10, 20}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults [metrics_listen, oauth_per_minute, oauth_burst, max_json_body_bytes, token_invalidate_interval, trusted, auth_failures_per_minute, auth_failures_burst] (-want +got):\n%s", diff)
	}
}

func TestOpsConfigParsed(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(validConfig + `
metrics_listen: 127.0.0.1:9091
limits:
  oauth_per_minute: -1
  oauth_burst: 5
  trusted_proxies: [10.0.0.0/8, 192.0.2.7, "2001:db8::/32", "::ffff:172.16.0.0/108"]
  max_json_body_bytes: 4096
  token_invalidate_interval: 0s
  auth_failures_per_minute: -1
  auth_failures_burst: 7
`))
	if err != nil {
		t.Fatalf("ParseConfig = %v", err)
	}
	if cfg.MetricsListen != "127.0.0.1:9091" {
		t.Errorf("MetricsListen = %q", cfg.MetricsListen)
	}
	l := cfg.Limits
	if l.OAuthPerMinute != -1 || l.OAuthBurst != 5 || l.MaxJSONBodyBytes != 4096 || *l.TokenInvalidateInterval != 0 ||
		l.AuthFailuresPerMinute != -1 || l.AuthFailuresBurst != 7 {
		t.Errorf("Limits = %+v", l)
	}
	var prefixes []string
	for _, p := range l.trusted {
		prefixes = append(prefixes, p.String())
	}
	if diff := cmp.Diff([]string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "172.16.0.0/12"}, prefixes); diff != "" {
		t.Errorf("trusted proxies (-want +got):\n%s", diff)
	}
	o := newOps(cfg, discardOpsLogger(), time.Now)
	if o.oauth != nil || o.invalidations != nil {
		t.Errorf("oauth_per_minute -1 and token_invalidate_interval 0s: limiter %v, gate %v; want both off", o.oauth, o.invalidations)
	}
	if a := newAuthFailures(&cfg.Limits, discardOpsLogger(), time.Now); a.limit != nil {
		t.Errorf("auth_failures_per_minute -1: brake %v, want off", a.limit)
	}
	if !o.clients.isTrusted(netip.MustParseAddr("10.9.8.7")) {
		t.Error("10.9.8.7 not trusted")
	}
}

func TestOpsConfigErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, wantKey string
	}{
		{"bad metrics_listen", "metrics_listen: nowhere\n", "metrics_listen"},
		{"metrics_listen is listen", "metrics_listen: 127.0.0.1:9090\n", "metrics_listen"},
		{"unknown limits key", "limits: { oauth_per_hour: 5 }\n", "oauth_per_hour"},
		{"negative rate", "limits: { oauth_per_minute: -5 }\n", "limits.oauth_per_minute"},
		{"negative burst", "limits: { oauth_burst: -1 }\n", "limits.oauth_burst"},
		{"bad proxy", "limits: { trusted_proxies: [10.0.0.0/8, 10.0.0.0/33] }\n", "limits.trusted_proxies[1]"},
		{"proxy host name", "limits: { trusted_proxies: [lb.internal] }\n", "limits.trusted_proxies[0]"},
		{"small body cap", "limits: { max_json_body_bytes: 100 }\n", "limits.max_json_body_bytes"},
		{"negative interval", "limits: { token_invalidate_interval: -1s }\n", "limits.token_invalidate_interval"},
		{"bad interval", "limits: { token_invalidate_interval: often }\n", "often"},
		{"negative auth failure rate", "limits: { auth_failures_per_minute: -2 }\n", "limits.auth_failures_per_minute"},
		{"negative auth failure burst", "limits: { auth_failures_burst: -1 }\n", "limits.auth_failures_burst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig([]byte(validConfig + tc.yaml))
			if err == nil {
				t.Fatalf("ParseConfig = nil error, want one naming %q", tc.wantKey)
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("ParseConfig error %q does not name %q", err, tc.wantKey)
			}
		})
	}
}

// TestMetricsListenPortZero: listen and metrics_listen may both ask for a
// free port.
func TestMetricsListenPortZero(t *testing.T) {
	t.Parallel()
	cfg := &Config{Listen: "127.0.0.1:0", OpsConfig: OpsConfig{MetricsListen: "127.0.0.1:0"}}
	if err := cfg.Normalize(); err != nil {
		t.Errorf("Normalize = %v", err)
	}
}
