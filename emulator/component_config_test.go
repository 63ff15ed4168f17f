package emulator

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseComponentConfig(t *testing.T) {
	t.Parallel()
	y := `
apps:
  - appid: wx1111111111111111
    secret: s3cret
    token: tok123
components:
  - appid: wx_component_appid
    secret: "component secret"
    token: comptoken
    encoding_aes_key: ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj
    push_url: http://127.0.0.1:8080/component/wx_component_appid/notify
    message_url: http://127.0.0.1:8080/component/wx_component_appid/wx/$APPID$
limits:
  component_ticket_interval: 5m
  component_ticket_lifetime: 6h
`
	c, err := ParseConfig([]byte(y))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	want := []ComponentConfig{{
		AppID: "wx_component_appid", Secret: "component secret", Token: "comptoken",
		EncodingAESKey: "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj",
		PushURL:        "http://127.0.0.1:8080/component/wx_component_appid/notify",
		MessageURL:     "http://127.0.0.1:8080/component/wx_component_appid/wx/$APPID$",
	}}
	if diff := cmp.Diff(want, c.Components); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
	e, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	info, err := e.Component("wx_component_appid")
	if err != nil || info.Name != "第三方平台 wx_component_appid" || info.PushURL != want[0].PushURL {
		t.Errorf("Component = %+v, %v", info, err)
	}
	if l := e.Config().Limits; l.ComponentTicketInterval != 5*time.Minute || l.ComponentTicketLifetime != 6*time.Hour {
		t.Errorf("limits = %v %v", l.ComponentTicketInterval, l.ComponentTicketLifetime)
	}
	if d := (Config{}).withDefaults().Limits; d.ComponentTicketInterval != DefaultComponentTicketInterval || d.ComponentTicketLifetime != DefaultComponentTicketLifetime {
		t.Errorf("default limits = %v %v", d.ComponentTicketInterval, d.ComponentTicketLifetime)
	}
}

func TestComponentConfigErrors(t *testing.T) {
	t.Parallel()
	good := ComponentConfig{AppID: compAppID, Secret: compSecret, Token: compToken, EncodingAESKey: compAESKey}
	tests := []struct {
		name   string
		mutate func(*Config)
		key    string
	}{
		{"appid missing", func(c *Config) { c.Components[0].AppID = "" }, "components[0].appid"},
		{"duplicate", func(c *Config) { c.Components = append(c.Components, good) }, "components[1].appid"},
		{"appid of an app", func(c *Config) { c.Components[0].AppID = testAppID }, "components[0].appid"},
		{"secret missing", func(c *Config) { c.Components[0].Secret = "" }, "components[0].secret"},
		{"token", func(c *Config) { c.Components[0].Token = "a-b" }, "components[0].token"},
		{"key missing", func(c *Config) { c.Components[0].EncodingAESKey = "" }, "components[0].encoding_aes_key"},
		{"push_url", func(c *Config) { c.Components[0].PushURL = "/notify" }, "components[0].push_url"},
		{"message_url", func(c *Config) { c.Components[0].MessageURL = "wx/$APPID$" }, "components[0].message_url"},
		{"ticket interval", func(c *Config) { c.Limits.ComponentTicketInterval = -1 }, "limits.component_ticket_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			c.Components = []ComponentConfig{good}
			tt.mutate(&c)
			err := c.Validate()
			if ce, ok := errors.AsType[*ConfigError](err); !ok || ce.Key != tt.key {
				t.Errorf("Validate = %v, want a ConfigError for %s", err, tt.key)
			}
		})
	}
}
