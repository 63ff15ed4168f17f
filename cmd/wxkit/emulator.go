package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/gateway"
)

func (m *Main) emulatorCommand() *cobra.Command {
	var listen, configFlag string
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run the offline WeChat platform emulator over HTTP",
		Long: `Run the emulator: the platform APIs (api.weixin.qq.com, open.weixin.qq.com,
api.mch.weixin.qq.com) and the control API under /_emulator/ on one listener.
Without --config it hosts the demo app of emulator.DefaultConfig, pushing to
http://` + DevGatewayAddr + `/wx/` + emulator.DemoAppID + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := emulator.DefaultConfig()
			if configFlag != "" {
				var err error
				if cfg, err = emulator.LoadConfig(configFlag); err != nil {
					return err
				}
			}
			logger := gateway.NewLogger(gateway.LogConfig{Level: "info"}, m.Stderr)
			emu, err := emulator.New(cfg, emulator.WithLogger(logger))
			if err != nil {
				return err
			}
			return m.serveEmulator(cmd.Context(), emu, listen, logger)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", DevEmulatorAddr, "address to listen on")
	cmd.Flags().StringVar(&configFlag, "config", "", "emulator configuration file (YAML; default: the demo app)")
	return cmd
}

func (m *Main) serveEmulator(ctx context.Context, emu *emulator.Emulator, listen string, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("emulator: serving", slog.String("url", url))
	fmt.Fprintf(m.Stdout, "wxkit emulator on %s (control API %s/_emulator/apps)\n", url, url)
	if m.Ready != nil {
		m.Ready("", url)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
