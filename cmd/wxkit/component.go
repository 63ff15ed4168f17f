package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/mp"
)

// componentCommand is `wxkit component`: the Open Platform components of
// the configuration and the accounts that authorized them.
func (m *Main) componentCommand() *cobra.Command {
	var configFlag, component string
	cmd := &cobra.Command{
		Use:   "component",
		Short: "Open Platform (third-party platform): list the accounts that authorized a component",
	}
	cmd.PersistentFlags().StringVar(&configFlag, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	cmd.PersistentFlags().StringVar(&component, "component", "", "the component's AppID (default: every configured component)")
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the authorizers: appid, name, status, authorized and updated times (never a token)",
		Long: `List the accounts that authorized the configured components, from the configured
store: component appid, authorizer appid, nickname, status (authorized, or
unauthorized after the account cancelled), when it first authorized and when its
record last changed. Tokens and refresh tokens are never printed.

The configuration is --config, else $WXKIT_CONFIG, else ./wxkit.yaml; with none, the
dev-mode configuration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := m.loadConfig(configFlag)
			if err != nil {
				return err
			}
			ids := []string{component}
			if component == "" {
				ids = ids[:0]
				for i := range cfg.Components {
					ids = append(ids, cfg.Components[i].AppID)
				}
				if len(ids) == 0 {
					return fmt.Errorf("component list: the configuration has no components")
				}
			}
			g, err := gateway.New(cmd.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				return err
			}
			defer g.Close()
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "COMPONENT\tAUTHORIZER\tNAME\tSTATUS\tAUTHORIZED\tUPDATED")
			for _, id := range ids {
				c, err := g.Component(id)
				if err != nil {
					return fmt.Errorf("--component: %w", err)
				}
				list, err := c.Authorizers(cmd.Context())
				if err != nil {
					return err
				}
				for _, a := range list {
					status := "authorized"
					if !a.Authorized {
						status = "unauthorized"
					}
					name := a.Nickname
					if name == "" {
						name = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", id, a.AppID, name, status,
						a.Created.UTC().Format(time.RFC3339), a.Updated.UTC().Format(time.RFC3339))
				}
			}
			return tw.Flush()
		},
	})
	return cmd
}

// loadConfig loads --config, $WXKIT_CONFIG or ./wxkit.yaml, else the
// dev-mode configuration.
func (m *Main) loadConfig(flag string) (*gateway.Config, error) {
	if path := m.configPath(flag); path != "" {
		return gateway.LoadConfig(path)
	}
	return DevConfig(DevGatewayAddr, "http://"+DevEmulatorAddr, DevDBFile)
}

// withAuthorizerMenuClient is withMenuClient for `wxkit menu ...
// --component C --authorizer A`: the client acts for the account A with
// its authorizer_access_token, refreshed through the component C from the
// refresh token in the configured store. The menu comes from --file only.
func (m *Main) withAuthorizerMenuClient(ctx context.Context, cfg *gateway.Config, f menuFlags, fn func(c *mp.Client, local *mp.Menu) error) error {
	switch {
	case f.component == "" || f.authorizer == "":
		return fmt.Errorf("--component and --authorizer go together")
	case f.app != "":
		return fmt.Errorf("--app and --authorizer exclude each other")
	}
	var local *mp.Menu
	if f.file != "" {
		b, err := os.ReadFile(f.file)
		if err != nil {
			return err
		}
		mc, err := gateway.ParseMenuFile(b)
		if err != nil {
			return fmt.Errorf("%s: %w", f.file, err)
		}
		local = mc.Menu()
	}
	g, err := gateway.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer g.Close()
	c, err := g.AuthorizerMPClient(f.component, f.authorizer)
	if err != nil {
		return err
	}
	return fn(c, local)
}

// The dev-mode demo component (third-party platform), hosted by the
// emulator and served by the gateway at /component/{appid}/....
const (
	DevComponentAppID  = "wxc0de0000c0de0000"
	DevComponentSecret = "c0de0000c0de0000c0de0000c0de0000"
	DevComponentToken  = "wxkitdemocomponent"
	DevComponentAESKey = "componentdemokey0123456789abcdefghijklmnopq"
)

// devComponent is the gateway's configuration of the demo component:
// authorized accounts' texts are echoed.
func devComponent() gateway.ComponentConfig {
	return gateway.ComponentConfig{
		AppID: DevComponentAppID, Secret: DevComponentSecret, Token: DevComponentToken, EncodingAESKey: DevComponentAESKey,
		AuthorizerReplies: gateway.RepliesConfig{Default: &gateway.ReplyConfig{Echo: true}},
	}
}

// devEmulatorComponent is the emulator's side of the demo component; its
// URLs are set once the gateway listens (startDevComponent).
func devEmulatorComponent() emulator.ComponentConfig {
	return emulator.ComponentConfig{AppID: DevComponentAppID, Secret: DevComponentSecret, Token: DevComponentToken,
		EncodingAESKey: DevComponentAESKey, Name: "wxkit 演示第三方平台"}
}

// startDevComponent points the emulator's demo component at the gateway
// and pushes a first ticket (the schedule's first comes 10 minutes after
// start), so that the authorization link works at once.
func startDevComponent(ctx context.Context, emu *emulator.Emulator, gatewayURL string, logger *slog.Logger) error {
	push := gatewayURL + "/component/" + DevComponentAppID + "/notify"
	msg := gatewayURL + "/component/" + DevComponentAppID + "/wx/$APPID$"
	if err := emu.SetComponentURLs(DevComponentAppID, &push, &msg); err != nil {
		return err
	}
	go func() {
		p, err := emu.PushComponentTicket(context.WithoutCancel(ctx), DevComponentAppID)
		if err != nil || !p.Acknowledged {
			msg := "not acknowledged"
			if err != nil {
				msg = err.Error()
			} else if p.Error != "" {
				msg = p.Error
			}
			logger.Warn("dev mode: the demo component's first ticket push failed", slog.String("error", msg))
		}
	}()
	return nil
}
