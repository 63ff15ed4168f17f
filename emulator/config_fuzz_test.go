package emulator

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

// FuzzParseConfig feeds any file to ParseConfig. It must never panic; an
// error from Validate is a *ConfigError naming a key; and a configuration
// it accepts survives a round trip through YAML (what an operator gets by
// dumping it): yaml.Marshal then ParseConfig gives the same Config.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`
apps:
  - appid: wx1111111111111111
    secret: s3cret
    token: tok123
    encoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
    mode: compat
    push_url: http://127.0.0.1:9000/wx
    ip_whitelist: [127.0.0.1, 10.0.0.0/8]
    users:
      - nickname: 张三
        sex: 1
      - openid: oABCDE1234567890123456789012
        subscribed: false
    oauth: { domains: [example.com], auto_approve: oABCDE1234567890123456789012 }
push:
  timeout: 2s
  attempts: 2
limits:
  token_daily: 10
  stable_force_interval: 1m
  daily:
    /cgi-bin/menu/create: 5
`))
	f.Add([]byte("apps:\n  - appid: wx1\n    secret: s\n    token: tok123\n    mode: safe\n"))
	f.Add([]byte("push:\n  timeout: soon\n"))
	f.Add([]byte("limits: { token_daily: -1 }\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			if ce, ok := errors.AsType[*ConfigError](err); ok && ce.Key == "" {
				t.Fatalf("ConfigError without a key: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "emulator: config: ") {
				t.Fatalf("error %q does not say where it comes from", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate of an accepted config = %v", err)
		}
		y, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("yaml.Marshal = %v", err)
		}
		again, err := ParseConfig(y)
		if err != nil {
			t.Fatalf("ParseConfig(yaml.Marshal(c)) = %v\n%s\ninput:\n%s", err, y, b)
		}
		if d := cmp.Diff(c, again, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("YAML round trip (-parsed +again):\n%s\n%s", d, y)
		}
	})
}
