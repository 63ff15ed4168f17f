package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/store"
)

func (m *Main) migrateCommand() *cobra.Command {
	var configFlag string
	cmd := &cobra.Command{
		Use:   "migrate [up|status]",
		Short: "Apply or list the database migrations of the configured store",
		Long: `Apply (up, the default) or list (status) the schema migrations of the SQL store
named by store: in the configuration (SQLite or PostgreSQL).

wxkit serve applies missing migrations at start, under a lock, so that several
instances may start at once; run "wxkit migrate up" before a deploy to migrate
ahead of the new instances, and "wxkit migrate status" to see where a database is.

The configuration is --config, else $WXKIT_CONFIG, else ./wxkit.yaml; with none, the
dev-mode database ./` + DevDBFile + `.`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"up", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			action := "up"
			if len(args) == 1 {
				action = args[0]
			}
			if action != "up" && action != "status" {
				return fmt.Errorf("unknown action %q (want up or status)", action)
			}
			storeURL := "sqlite://" + DevDBFile
			if path := m.configPath(configFlag); path != "" {
				cfg, err := gateway.LoadConfig(path)
				if err != nil {
					return err
				}
				storeURL = cfg.Store
			}
			mig, closeDB, err := gateway.OpenMigrator(cmd.Context(), storeURL)
			if err != nil {
				return err
			}
			defer closeDB()
			if action == "up" {
				applied, err := mig.Migrate(cmd.Context())
				if err != nil {
					return err
				}
				if len(applied) == 0 {
					fmt.Fprintln(m.Stdout, "the schema is up to date")
				}
				for _, s := range applied {
					fmt.Fprintf(m.Stdout, "applied %04d_%s\n", s.Version, s.Name)
				}
				return nil
			}
			list, err := mig.Migrations(cmd.Context())
			if err != nil {
				return err
			}
			printMigrations(m, list)
			for _, s := range list {
				if !s.Applied {
					return &exitError{code: 1, msg: fmt.Sprintf("migration %04d_%s is not applied (run: wxkit migrate up)", s.Version, s.Name)}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configFlag, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	return cmd
}

func printMigrations(m *Main, list []store.MigrationStatus) {
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	for _, s := range list {
		at := "pending"
		if s.Applied {
			at = s.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", s.Version, s.Name, at)
	}
	tw.Flush()
}
