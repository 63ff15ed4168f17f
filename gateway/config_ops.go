package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// OpsConfig holds the operational keys of `wxkit serve`: where the
// Prometheus metrics are served and the abuse limits. It is embedded in
// Config, so its keys are top-level:
//
//	metrics_listen: 127.0.0.1:9090   # default "": /metrics on listen
//	limits:
//	  oauth_per_minute: 60
//	  oauth_burst: 20
//	  trusted_proxies: [10.0.0.0/8]
//	  max_json_body_bytes: 65536
//	  token_invalidate_interval: 30s
//	  auth_failures_per_minute: 10
//	  auth_failures_burst: 20
type OpsConfig struct {
	// MetricsListen, when set (host:port), serves GET /metrics on its own
	// listener only, e.g. an address reachable from the monitoring network
	// but not from the Internet. Empty (the default) serves GET /metrics on
	// Listen. It must differ from Listen (unless both have port 0, a free
	// port each).
	MetricsListen string `yaml:"metrics_listen"`
	// Limits are the per-client rate limits and request caps.
	Limits LimitsConfig `yaml:"limits"`
}

// LimitsConfig bounds what one client can make the gateway do.
type LimitsConfig struct {
	// OAuthPerMinute is the sustained rate, per client IP, of requests to
	// /oauth/login and /oauth/callback (each counts; a login is two), per
	// minute. Default 60; -1 turns the limit off. A client over it is
	// answered 429 with Retry-After.
	OAuthPerMinute int `yaml:"oauth_per_minute"`
	// OAuthBurst is how many of those requests a client may make at once
	// before the rate applies. Default 20.
	OAuthBurst int `yaml:"oauth_burst"`
	// TrustedProxies are the reverse proxies and load balancers in front
	// of the gateway, as CIDR prefixes ("10.0.0.0/8") or single addresses.
	// When a request comes from one of them, its client is the first
	// address of X-Forwarded-For, from the right, that is not a trusted
	// proxy; otherwise the client is the connection's peer and
	// X-Forwarded-For is ignored (anyone can write it). Default: none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MaxJSONBodyBytes caps the body of the gateway's JSON endpoints
	// (such as POST /token/{appid}/invalidate); a larger body is answered
	// 413. Default 65536; at least 1024.
	MaxJSONBodyBytes int64 `yaml:"max_json_body_bytes"`
	// TokenInvalidateInterval is the least time between two upstream
	// refreshes of one app's token (per token type) caused by reports of
	// rejected tokens (POST /token/{appid}/invalidate): a report within
	// the interval after the last refresh leaves the current token in
	// place, so that a misbehaving caller cannot make the gateway burn the
	// app's daily token quota. Default 30s; "0s" turns the limit off.
	TokenInvalidateInterval *Duration `yaml:"token_invalidate_interval"`
	// AuthFailuresPerMinute is the sustained rate, per client IP (an IPv6
	// client by its /64), of failed authentications on the token service
	// (a missing or wrong bearer secret on /token/{appid} and
	// /token/{appid}/invalidate), per minute. A client over it is answered
	// 429 with Retry-After on every token-service request, with the right
	// secret or not, until its budget has refilled: a guesser gets nothing
	// from trying on. Clients behind one address share the budget (set
	// trusted_proxies when a proxy is in front). Default 10; -1 turns the
	// brake off. Either way failures are logged as a summary: at most one
	// line per client a minute, with the count (authfailures.go).
	AuthFailuresPerMinute int `yaml:"auth_failures_per_minute"`
	// AuthFailuresBurst is how many failed authentications a client may
	// make at once before the rate applies. Default 20.
	AuthFailuresBurst int `yaml:"auth_failures_burst"`

	trusted []netip.Prefix // TrustedProxies, parsed by normalize
}

// Defaults of LimitsConfig.
const (
	DefaultOAuthPerMinute          = 60
	DefaultOAuthBurst              = 20
	DefaultMaxJSONBodyBytes        = 64 << 10
	DefaultTokenInvalidateInterval = 30 * time.Second
	DefaultAuthFailuresPerMinute   = 10
	DefaultAuthFailuresBurst       = 20
)

// normalizeOps fills the defaults of the OpsConfig keys and validates them;
// Config.Normalize calls it after Listen has its default. Errors name the
// key, e.g. "limits.oauth_burst: must be at least 1, got 0".
func (c *Config) normalizeOps() error {
	if c.MetricsListen != "" {
		_, port, err := net.SplitHostPort(c.MetricsListen)
		if err != nil {
			return fmt.Errorf("metrics_listen: %q is not host:port", c.MetricsListen)
		}
		if c.MetricsListen == c.Listen && port != "0" { // port 0: two free ports
			return fmt.Errorf("metrics_listen: %q is listen's address; leave metrics_listen empty to serve /metrics there", c.MetricsListen)
		}
	}
	return c.Limits.normalize("limits")
}

func (l *LimitsConfig) normalize(key string) error {
	switch {
	case l.OAuthPerMinute == 0:
		l.OAuthPerMinute = DefaultOAuthPerMinute
	case l.OAuthPerMinute == -1:
	case l.OAuthPerMinute < 0:
		return fmt.Errorf("%s.oauth_per_minute: %d must be positive, or -1 for no limit", key, l.OAuthPerMinute)
	}
	if l.OAuthBurst == 0 {
		l.OAuthBurst = DefaultOAuthBurst
	}
	if l.OAuthBurst < 1 {
		return fmt.Errorf("%s.oauth_burst: must be at least 1, got %d", key, l.OAuthBurst)
	}
	l.trusted = l.trusted[:0]
	for i, s := range l.TrustedProxies {
		p, err := parseTrustedProxy(s)
		if err != nil {
			return fmt.Errorf("%s.trusted_proxies[%d]: %q is not a CIDR prefix (10.0.0.0/8) or an IP address", key, i, s)
		}
		l.trusted = append(l.trusted, p)
	}
	if l.MaxJSONBodyBytes == 0 {
		l.MaxJSONBodyBytes = DefaultMaxJSONBodyBytes
	}
	if l.MaxJSONBodyBytes < 1024 {
		return fmt.Errorf("%s.max_json_body_bytes: %d is below 1024", key, l.MaxJSONBodyBytes)
	}
	if l.TokenInvalidateInterval == nil {
		d := Duration(DefaultTokenInvalidateInterval)
		l.TokenInvalidateInterval = &d
	}
	if *l.TokenInvalidateInterval < 0 {
		return fmt.Errorf("%s.token_invalidate_interval: must not be negative", key)
	}
	switch {
	case l.AuthFailuresPerMinute == 0:
		l.AuthFailuresPerMinute = DefaultAuthFailuresPerMinute
	case l.AuthFailuresPerMinute == -1:
	case l.AuthFailuresPerMinute < 0:
		return fmt.Errorf("%s.auth_failures_per_minute: %d must be positive, or -1 for no limit", key, l.AuthFailuresPerMinute)
	}
	if l.AuthFailuresBurst == 0 {
		l.AuthFailuresBurst = DefaultAuthFailuresBurst
	}
	if l.AuthFailuresBurst < 1 {
		return fmt.Errorf("%s.auth_failures_burst: must be at least 1, got %d", key, l.AuthFailuresBurst)
	}
	return nil
}

// parseTrustedProxy parses "10.0.0.0/8" or "10.1.2.3" (a /32) into a
// masked prefix; IPv4-mapped IPv6 forms are taken as IPv4.
func parseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked(), nil
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}
