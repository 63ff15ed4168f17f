package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/store"
)

// payCommand is `wxkit pay`: the orders of the configured WeChat Pay
// merchants.
func (m *Main) payCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pay",
		Short: "List WeChat Pay orders and reconcile them with the platform",
		Long: `Commands on the WeChat Pay orders of the gateway's store (pay: in the configuration).

The configuration is --config, else $WXKIT_CONFIG, else ./wxkit.yaml; with none, the
dev-mode configuration (./` + DevDBFile + `, the emulator at http://` + DevEmulatorAddr + `, and
the demo merchant that wxkit serve writes to ./` + devPayDir + `).`,
	}
	cmd.AddCommand(m.payOrdersCommand(), m.payReconcileCommand(), m.payBillCommand())
	return cmd
}

// payConfig loads the configuration of the pay commands.
func (m *Main) payConfig(flag string) (*gateway.Config, error) {
	if path := m.configPath(flag); path != "" {
		return gateway.LoadConfig(path)
	}
	return DevConfig(DevGatewayAddr, "http://"+DevEmulatorAddr, DevDBFile)
}

// parseStates parses --state values (repeated or comma-separated).
func parseStates(vals []string) ([]store.TradeState, error) {
	var out []store.TradeState
	for _, v := range vals {
		for s := range strings.SplitSeq(v, ",") {
			st := store.TradeState(strings.ToUpper(strings.TrimSpace(s)))
			if st == "" {
				continue
			}
			if !store.KnownTradeState(st) {
				return nil, fmt.Errorf("--state: %q is not a trade state (NOTPAY, USERPAYING, SUCCESS, REFUND, CLOSED, PAYERROR, REVOKED)", s)
			}
			out = append(out, st)
		}
	}
	return out, nil
}

func (m *Main) payOrdersCommand() *cobra.Command {
	var configFlag, mchID string
	var states []string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "orders [--state S] [--mch-id ID] [--limit N] [--json]",
		Short: "List orders, newest first",
		Long: `List the orders in the gateway's store, newest first: every order, or those in the
states given with --state (repeat it, or separate states with commas: --state NOTPAY,USERPAYING).
Amounts are in fen. --json prints a JSON array of orders (the store's fields).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sts, err := parseStates(states)
			if err != nil {
				return err
			}
			if limit < 1 {
				return errors.New("--limit: must be at least 1")
			}
			cfg, err := m.payConfig(configFlag)
			if err != nil {
				return err
			}
			p, err := gateway.OpenPayments(cmd.Context(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			defer p.Close()
			orders, err := p.Orders(cmd.Context(), store.OrderQuery{MchID: mchID, States: sts, Limit: limit})
			if err != nil {
				return err
			}
			if asJSON {
				if orders == nil {
					orders = []*store.Order{}
				}
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(orders)
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CREATED\tMCH_ID\tOUT_TRADE_NO\tSTATE\tAMOUNT_FEN\tREFUNDED_FEN\tOPENID\tTRANSACTION_ID")
			for _, o := range orders {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", o.Created.UTC().Format(time.RFC3339), o.MchID, o.OutTradeNo,
					o.State, o.Amount, o.Refunded, o.OpenID, dash(o.TransactionID))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFlag, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	f.StringSliceVar(&states, "state", nil, "only orders in these trade states (NOTPAY, SUCCESS, REFUND, CLOSED, ...)")
	f.StringVar(&mchID, "mch-id", "", "only the orders of this merchant")
	f.IntVar(&limit, "limit", 100, "at most this many orders")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// reconcileLine is one order of `wxkit pay reconcile --json`.
type reconcileLine struct {
	MchID      string `json:"mch_id"`
	OutTradeNo string `json:"out_trade_no"`
	Before     string `json:"before"`
	Platform   string `json:"platform"`
	After      string `json:"after"`
	Changed    bool   `json:"changed"`
	Error      string `json:"error,omitempty"`
}

func (m *Main) payReconcileCommand() *cobra.Command {
	var configFlag, mchID string
	var states []string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "reconcile [--mch-id ID] [--state S] [--limit N] [--json]",
		Short: "Query open orders at the platform and apply its state",
		Long: `Ask the platform (orderquery, or v3 query by out_trade_no) about every open order
(NOTPAY, USERPAYING; --state selects others) and apply what it says, with the rules of a
notify: a payment the gateway missed makes the order SUCCESS (if its appid and amount
match) and enqueues its paid event, which the serving instances deliver to
pay.on_paid.forward; an order the platform closed is closed. Safe to run at any time,
and on several machines at once.

It prints one line per order; the exit status is 1 when some order could not be
reconciled (the platform did not answer, or its answer does not fit the order: see
the log of the gateway for such alerts).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sts, err := parseStates(states)
			if err != nil {
				return err
			}
			cfg, err := m.payConfig(configFlag)
			if err != nil {
				return err
			}
			if len(cfg.Pay.Merchants) == 0 {
				return errors.New("pay.merchants: no merchant is configured")
			}
			logger := gateway.NewLogger(gateway.LogConfig{Level: "warn"}, m.Stderr)
			p, err := gateway.OpenPayments(cmd.Context(), cfg, logger)
			if err != nil {
				return err
			}
			defer p.Close()
			res, err := p.Reconcile(cmd.Context(), store.OrderQuery{MchID: mchID, States: sts, Limit: limit})
			if err != nil {
				return err
			}
			lines := make([]reconcileLine, 0, len(res))
			failed := 0
			for _, r := range res {
				l := reconcileLine{MchID: r.Order.MchID, OutTradeNo: r.Order.OutTradeNo, Before: string(r.Order.State),
					Platform: string(r.Platform), After: string(r.After), Changed: r.Changed}
				if r.Err != nil {
					l.Error = r.Err.Error()
					failed++
				}
				lines = append(lines, l)
			}
			if asJSON {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(lines); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "MCH_ID\tOUT_TRADE_NO\tBEFORE\tPLATFORM\tAFTER\tRESULT")
				changed := 0
				for _, l := range lines {
					result := "unchanged"
					switch {
					case l.Error != "":
						result = "error: " + l.Error
					case l.Changed:
						result, changed = "changed", changed+1
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.MchID, l.OutTradeNo, l.Before, dash(l.Platform), l.After, result)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "%d orders reconciled: %d changed, %d failed\n", len(lines), changed, failed)
			}
			if failed > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d orders could not be reconciled", failed)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFlag, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	f.StringVar(&mchID, "mch-id", "", "only the orders of this merchant")
	f.StringSliceVar(&states, "state", nil, "reconcile orders in these states instead of the open ones")
	f.IntVar(&limit, "limit", 0, "at most this many orders per merchant (0: all)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
