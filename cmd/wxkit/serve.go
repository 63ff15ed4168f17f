package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/gateway"
)

// configPath resolves the configuration file: --config, then WXKIT_CONFIG,
// then ./wxkit.yaml when it exists; "" means none (dev mode for serve).
func (m *Main) configPath(flag string) string {
	if flag != "" {
		return flag
	}
	if v := m.getenv("WXKIT_CONFIG"); v != "" {
		return v
	}
	if _, err := os.Stat(DefaultConfigFile); err == nil {
		return DefaultConfigFile
	}
	return ""
}

func (m *Main) serveCommand() *cobra.Command {
	var configFlag, listen, emuListen, devDB string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway (dev mode with the emulator when there is no configuration)",
		Long: `Run the gateway: the webhooks of the configured apps at /wx/{appid}, the central
token service at /token/{appid} and /healthz.

The configuration file is --config, else $WXKIT_CONFIG, else ./wxkit.yaml. With none
of them, serve starts in dev mode: the gateway on ` + DevGatewayAddr + ` and the emulator
on ` + DevEmulatorAddr + ` in one process, with a demo app, and the database in ./` + DevDBFile + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := m.configPath(configFlag)
			if path == "" {
				return m.runDev(cmd.Context(), devOptions{gatewayAddr: listen, emulatorAddr: emuListen, dbPath: devDB})
			}
			cfg, err := gateway.LoadConfig(path)
			if err != nil {
				return err
			}
			if listen != "" {
				// public_url defaults to the listen address: follow the
				// override unless the file set it.
				if cfg.PublicURL == "http://"+cfg.Listen {
					cfg.PublicURL = "http://" + listen
				}
				cfg.Listen = listen
			}
			return m.runGateway(cmd.Context(), cfg, nil)
		},
	}
	cmd.Flags().StringVar(&configFlag, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	cmd.Flags().StringVar(&listen, "listen", "", "override the listen address (dev mode default "+DevGatewayAddr+")")
	cmd.Flags().StringVar(&emuListen, "emulator-listen", "", "dev mode: the emulator's address (default "+DevEmulatorAddr+")")
	cmd.Flags().StringVar(&devDB, "dev-db", "", "dev mode: the SQLite file (default ./"+DevDBFile+")")
	return cmd
}

// runGateway serves cfg until ctx ends. ready, when set, runs once the
// gateway listens (dev mode uses it to point the emulator at it).
func (m *Main) runGateway(ctx context.Context, cfg *gateway.Config, ready func(g *gateway.Gateway) error) error {
	logger := gateway.NewLogger(cfg.Log, m.Stderr)
	g, err := gateway.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer g.Close()
	if err := g.Listen(); err != nil {
		return err
	}
	if ready != nil {
		if err := ready(g); err != nil {
			return err
		}
	} else if m.Ready != nil {
		m.Ready(g.URL(), "")
	}
	if err := g.Run(ctx); err != nil {
		return err
	}
	return g.Close()
}

// devOptions are the dev-mode overrides.
type devOptions struct {
	gatewayAddr, emulatorAddr, dbPath string
}

// DevConfig returns the gateway configuration of dev mode: the emulator's
// demo app (safe mode) with a welcome reply on subscribe, hello → world,
// and echo by default, a menu whose Demo button opens the demo page
// (web.demo) and whose clicks are answered, listen's host as its JS-SDK
// domain (web_dev.go), the demo Mini Program (DevMiniAppID, wxa_dev.go),
// every WeChat base URL pointing at emulatorURL, and
// the demo merchant that dev mode wrote beside dbPath (pay_dev.go), when
// it is there.
func DevConfig(listen, emulatorURL, dbPath string) (*gateway.Config, error) {
	cfg := &gateway.Config{
		Listen: listen,
		Store:  "sqlite://" + dbPath,
		WeChat: gateway.WeChatConfig{APIBase: emulatorURL, OpenBase: emulatorURL, PayBase: emulatorURL, MPBase: emulatorURL},
		Apps: []gateway.AppConfig{{
			AppID:          emulator.DemoAppID,
			Secret:         emulator.DemoSecret,
			Token:          emulator.DemoToken,
			EncodingAESKey: emulator.DemoEncodingAESKey,
			Mode:           gateway.ModeSafe,
			Replies: gateway.RepliesConfig{
				Subscribe: &gateway.ReplyConfig{Text: "欢迎关注 wxkit 演示号! Send hello, or anything else to hear it back."},
				Keywords:  []gateway.KeywordRule{{Match: "hello", ReplyConfig: gateway.ReplyConfig{Text: "world"}}},
				Default:   &gateway.ReplyConfig{Echo: true},
			},
		}, devMiniApp()}, // wxa_dev.go
		Components: []gateway.ComponentConfig{devComponent()}, // component.go
	}
	if err := devWeb(cfg, listen); err != nil { // web_dev.go
		return nil, err
	}
	pay, err := loadDevPay(dbPath) // pay_dev.go
	if err != nil {
		return nil, err
	}
	if pay != nil {
		cfg.Pay = *pay
	}
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// runDev runs the emulator and the gateway in one process.
func (m *Main) runDev(ctx context.Context, o devOptions) error {
	if o.gatewayAddr == "" {
		o.gatewayAddr = DevGatewayAddr
	}
	if o.emulatorAddr == "" {
		o.emulatorAddr = DevEmulatorAddr
	}
	if o.dbPath == "" {
		o.dbPath = DevDBFile
	}
	logger := gateway.NewLogger(gateway.LogConfig{Level: "info"}, m.Stderr)
	// public_url (notify and redirect URLs) and the emulator's web
	// domains need the gateway's real port: resolve a port 0 now.
	if _, port, err := net.SplitHostPort(o.gatewayAddr); err == nil && port == "0" {
		if ln, err := net.Listen("tcp", o.gatewayAddr); err == nil {
			o.gatewayAddr = ln.Addr().String()
			ln.Close()
		}
	}
	ecfg := devEmulatorConfig(o.gatewayAddr)                          // wxa_dev.go
	ecfg.Components = append(ecfg.Components, devEmulatorComponent()) // component.go
	emu, err := emulator.New(ecfg, emulator.WithLogger(logger.With(slog.String("component", "emulator"))))
	if err != nil {
		return err
	}
	eln, err := net.Listen("tcp", o.emulatorAddr)
	if err != nil {
		return fmt.Errorf("dev mode: emulator: listen: %w", err)
	}
	esrv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	emuURL := "http://" + eln.Addr().String()
	eerr := make(chan error, 1)
	go func() { eerr <- esrv.Serve(eln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		esrv.Shutdown(sctx)
	}()

	payDir := filepath.Join(filepath.Dir(o.dbPath), devPayDir)
	if _, err := writeDevPay(emu, payDir); err != nil { // pay_dev.go
		return fmt.Errorf("dev mode: writing the demo merchant's keys: %w", err)
	}
	cfg, err := DevConfig(o.gatewayAddr, emuURL, o.dbPath)
	if err != nil {
		return err
	}
	dbAbs, _ := filepath.Abs(o.dbPath)
	payAbs, _ := filepath.Abs(payDir)
	return m.runGateway(ctx, cfg, func(g *gateway.Gateway) error {
		appID := emulator.DemoAppID
		if err := emu.SetPushURL(appID, g.URL()+"/wx/"+appID); err != nil {
			return err
		}
		if err := startDevComponent(ctx, emu, g.URL(), logger); err != nil { // component.go
			return err
		}
		pushFlag := ""
		if emuURL != "http://"+DevEmulatorAddr {
			pushFlag = " --emulator " + emuURL
		}
		fmt.Fprintf(m.Stdout, `wxkit dev mode: the gateway and the WeChat emulator in one process.

  gateway   %s   webhook %s/wx/%s, health %s/healthz
  emulator  %s   control API %s/_emulator/apps
  chat      %s/   open in a browser: a WeChat-like page to chat as a simulated user
  app       %s (safe mode; the emulator's demo credentials); its menu: Demo, Hello, About
  demo      %s/demo/   the demo page: tap Demo in the chat's menu to sign in,
            run wx.config and pay ¥0.01 in the emulator's web view (web.demo)
  pay       merchant %s, WeChat Pay v3 (keys and pay: configuration in %s)
            POST %s/pay/orders as a signed-in user (log in: %s/oauth/login),
            pay as the user: POST %s/_emulator/pay/{prepay_id}/pay; notifies at /pay/v3/notify/%s
  mini      %s (a Mini Program): its user's wx.login is POST %s/_emulator/apps/%s/wx.login,
            log in with the code: POST %s/wxa/%s/login (see README, Mini Program login)
  component %s (Open Platform): authorize the demo app at %s/component/%s/authorize
  database  %s

Try, in another terminal (from the repository's root):
  go run ./cmd/wxkit push%s --text hello          # prints: world
  go run ./cmd/wxkit push%s --event subscribe     # prints the welcome reply
  go run ./cmd/wxkit push%s --click %s    # the Hello button's reply
  go run ./cmd/wxkit push%s --text 你好           # echoed back
  go run ./cmd/wxkit pay orders                 # the WeChat Pay orders and their states
Stop with Ctrl-C.
`, g.URL(), g.URL(), appID, g.URL(), emuURL, emuURL, emuURL, appID, g.URL(),
			emulator.DemoMchID, payAbs, g.URL(), g.URL(), emuURL, emulator.DemoMchID,
			DevMiniAppID, emuURL, DevMiniAppID, g.URL(), DevMiniAppID,
			DevComponentAppID, g.URL(), DevComponentAppID, dbAbs, pushFlag, pushFlag, pushFlag, DevClickHello, pushFlag)
		if m.Ready != nil {
			m.Ready(g.URL(), emuURL)
		}
		go func() {
			if err := <-eerr; err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("dev mode: emulator stopped", slog.String("error", err.Error()))
			}
		}()
		return nil
	})
}
