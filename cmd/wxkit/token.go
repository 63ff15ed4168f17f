package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/token"
)

func (m *Main) tokenCommand() *cobra.Command {
	var configFlag, kind string
	cmd := &cobra.Command{
		Use:   "token [--type access_token|jsapi_ticket] APPID",
		Short: "Print an app's access_token (or jsapi_ticket) through the configured store",
		Long: `Print a valid token of APPID, read from the configured store (SQLite, or Redis
when configured) or fetched through stable_token and stored there, exactly as the
gateway's token service does, so that every process shares one token.

The configuration is --config, else $WXKIT_CONFIG, else ./wxkit.yaml; with none, the
dev-mode configuration (emulator at http://` + DevEmulatorAddr + `, ./` + DevDBFile + `).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg *gateway.Config
			var err error
			if path := m.configPath(configFlag); path != "" {
				cfg, err = gateway.LoadConfig(path)
			} else {
				cfg, err = DevConfig(DevGatewayAddr, "http://"+DevEmulatorAddr, DevDBFile)
			}
			if err != nil {
				return err
			}
			g, err := gateway.New(cmd.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				return err
			}
			defer g.Close()
			src, err := g.TokenSource(args[0], token.Kind(kind))
			if err != nil {
				return err
			}
			t, err := src.Token(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, t.Value)
			return nil
		},
	}
	cmd.Flags().StringVar(&configFlag, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	cmd.Flags().StringVar(&kind, "type", string(token.KindAccessToken), "access_token or jsapi_ticket")
	return cmd
}
