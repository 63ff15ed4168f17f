package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/mp"
)

// menuFlags are the flags shared by the menu subcommands.
type menuFlags struct {
	config, app, file string
	// component and authorizer act for an account through an Open
	// Platform component (component.go).
	component, authorizer string
}

func (m *Main) menuCommand() *cobra.Command {
	var f menuFlags
	cmd := &cobra.Command{
		Use:   "menu",
		Short: "Manage an app's custom menu as code: push, get, delete, diff",
		Long: `Manage the custom menu of an app from a YAML file with WeChat's field names
(WeChat's menu/create JSON is accepted too):

  button:
    - { type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC }
    - name: 菜单
      sub_button:
        - { type: view, name: 搜索, url: "https://www.soso.com/" }

The menu is checked against WeChat's limits before any call. Without --file, push
and diff use the app's menu: key in the configuration. Tokens come from the
configured store, shared with the gateway.

The configuration is --config, else $WXKIT_CONFIG, else ./wxkit.yaml; with none, the
dev-mode configuration (emulator at http://` + DevEmulatorAddr + `). --app may be left out
when the configuration has one app.`,
	}
	cmd.PersistentFlags().StringVar(&f.config, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	cmd.PersistentFlags().StringVar(&f.app, "app", "", "the app's AppID (default: the only configured app)")
	cmd.PersistentFlags().StringVar(&f.file, "file", "", "menu file, YAML (default: the app's menu: key)")
	cmd.PersistentFlags().StringVar(&f.component, "component", "", "act for --authorizer through this Open Platform component (AppID)")
	cmd.PersistentFlags().StringVar(&f.authorizer, "authorizer", "", "with --component: the account's AppID (it must have authorized the component)")

	cmd.AddCommand(&cobra.Command{
		Use:   "push",
		Short: "Create the menu of --file (replaces WeChat's default menu)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withMenuClient(cmd.Context(), f, func(c *mp.Client, local *mp.Menu) error {
				if local == nil {
					return fmt.Errorf("menu push: --file is required (the app has no menu: key)")
				}
				// menu/create replaces the whole menu: repeating it after -1 is safe.
				if err := c.Menu().Create(cmd.Context(), local, mp.RetryUnsafe()); err != nil {
					return fmt.Errorf("menu push: %w", err)
				}
				fmt.Fprintf(m.Stdout, "menu of %s created (%d buttons)\n", c.AppID(), len(local.Buttons))
				return nil
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "get",
		Short: "Print WeChat's default menu as a menu file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withMenuClient(cmd.Context(), f, func(c *mp.Client, _ *mp.Menu) error {
				mc, err := c.Menu().Get(cmd.Context())
				if errors.Is(err, wxkit.ErrMenuNotFound) {
					fmt.Fprintf(m.Stderr, "%s has no menu\n", c.AppID())
					return &exitError{code: 1}
				}
				if err != nil {
					return fmt.Errorf("menu get: %w", err)
				}
				b, err := yaml.Marshal(gateway.MenuConfigOf(&mc.Menu))
				if err != nil {
					return err
				}
				m.Stdout.Write(b)
				if n := len(mc.ConditionalMenus); n > 0 {
					fmt.Fprintf(m.Stderr, "(%s also has %d conditional menus, not shown)\n", c.AppID(), n)
				}
				return nil
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "delete",
		Short: "Delete WeChat's menu (the default and every conditional menu)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withMenuClient(cmd.Context(), f, func(c *mp.Client, _ *mp.Menu) error {
				if err := c.Menu().Delete(cmd.Context()); err != nil {
					return fmt.Errorf("menu delete: %w", err)
				}
				fmt.Fprintf(m.Stdout, "menu of %s deleted\n", c.AppID())
				return nil
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "diff",
		Short: "Show how --file differs from WeChat's menu (exit status 1 when it does)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withMenuClient(cmd.Context(), f, func(c *mp.Client, local *mp.Menu) error {
				if local == nil {
					return fmt.Errorf("menu diff: --file is required (the app has no menu: key)")
				}
				remote, err := gateway.RemoteMenu(cmd.Context(), c)
				if err != nil {
					return fmt.Errorf("menu diff: %w", err)
				}
				d := gateway.MenuDiff(remote, local)
				if d == "" {
					fmt.Fprintf(m.Stdout, "menu of %s is up to date\n", c.AppID())
					return nil
				}
				io.WriteString(m.Stdout, d)
				return &exitError{code: 1}
			})
		},
	})
	return cmd
}

// withMenuClient loads the configuration, picks the app, reads the local
// menu (--file, else the app's menu: key, else nil) and calls fn with an
// API client that shares the gateway's token store.
func (m *Main) withMenuClient(ctx context.Context, f menuFlags, fn func(c *mp.Client, local *mp.Menu) error) error {
	var cfg *gateway.Config
	var err error
	if path := m.configPath(f.config); path != "" {
		cfg, err = gateway.LoadConfig(path)
	} else {
		cfg, err = DevConfig(DevGatewayAddr, "http://"+DevEmulatorAddr, DevDBFile)
	}
	if err != nil {
		return err
	}
	if f.component != "" || f.authorizer != "" {
		return m.withAuthorizerMenuClient(ctx, cfg, f, fn) // component.go
	}
	appID := f.app
	if appID == "" {
		var ids []string // the Official Accounts: Mini Programs have no menu
		for i := range cfg.Apps {
			if !cfg.Apps[i].IsMiniProgram() {
				ids = append(ids, cfg.Apps[i].AppID)
			}
		}
		if len(ids) != 1 {
			return fmt.Errorf("--app is required: the configuration has %d Official Accounts (%s)", len(ids), strings.Join(ids, ", "))
		}
		appID = ids[0]
	}
	a := cfg.App(appID)
	if a == nil {
		return fmt.Errorf("--app: %s is not in the configuration", appID)
	}
	var local *mp.Menu
	switch {
	case f.file != "":
		b, err := os.ReadFile(f.file)
		if err != nil {
			return err
		}
		mc, err := gateway.ParseMenuFile(b)
		if err != nil {
			return fmt.Errorf("%s: %w", f.file, err)
		}
		local = mc.Menu()
	case a.Menu != nil:
		local = a.Menu.Menu()
	}
	g, err := gateway.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer g.Close()
	c, err := g.MPClient(appID)
	if err != nil {
		return err
	}
	return fn(c, local)
}
