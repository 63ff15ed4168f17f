package main

import (
	"context"
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

// openPayments loads the configuration (payConfig) and opens the
// merchants' clients and the store, for the commands that talk to the
// platform; it refuses a configuration without merchants. Close the
// result.
func (m *Main) openPayments(ctx context.Context, flag string) (*gateway.Payments, error) {
	cfg, err := m.payConfig(flag)
	if err != nil {
		return nil, err
	}
	if len(cfg.Pay.Merchants) == 0 {
		return nil, errors.New("pay.merchants: no merchant is configured")
	}
	logger := gateway.NewLogger(gateway.LogConfig{Level: "warn"}, m.Stderr)
	return gateway.OpenPayments(ctx, cfg, logger)
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

// reconcileLine is one order or refund of `wxkit pay reconcile --json`:
// a refund's line has OutRefundNo (its order's OutTradeNo beside) and
// refund states.
type reconcileLine struct {
	MchID       string `json:"mch_id"`
	OutTradeNo  string `json:"out_trade_no"`
	OutRefundNo string `json:"out_refund_no,omitempty"`
	Before      string `json:"before"`
	Platform    string `json:"platform"`
	After       string `json:"after"`
	Changed     bool   `json:"changed"`
	Error       string `json:"error,omitempty"`
}

func (m *Main) payReconcileCommand() *cobra.Command {
	var configFlag, mchID string
	var states []string
	var limit int
	var asJSON, refunds bool
	cmd := &cobra.Command{
		Use:   "reconcile [--mch-id ID] [--state S] [--limit N] [--refunds=false] [--json]",
		Short: "Query open orders and PROCESSING refunds at the platform and apply their state",
		Long: `Ask the platform (orderquery, or v3 query by out_trade_no) about every open order
(NOTPAY, USERPAYING; --state selects others) and apply what it says, with the rules of a
notify: a payment the gateway missed makes the order SUCCESS (if its appid and amount
match) and enqueues its paid event, which the serving instances deliver to
pay.on_paid.forward; an order the platform closed is closed.

Then ask it (refundquery, or v3 query by out_refund_no) about every refund still
PROCESSING and older than 5 minutes, whose notify was lost: a SUCCESS adds the refund to
its order's refunded amount (the order becomes REFUND), CLOSED or ABNORMAL is recorded,
and a refund the platform does not know is closed. --refunds=false skips refunds.

Safe to run at any time, and on several machines at once. It prints one line per order,
then one per refund; the exit status is 1 when some could not be reconciled (the platform
did not answer, or its answer does not fit: see the log of the gateway for such alerts).
With --json, a refund's line has "out_refund_no" (and its order's "out_trade_no").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sts, err := parseStates(states)
			if err != nil {
				return err
			}
			p, err := m.openPayments(cmd.Context(), configFlag)
			if err != nil {
				return err
			}
			defer p.Close()
			res, err := p.Reconcile(cmd.Context(), store.OrderQuery{MchID: mchID, States: sts, Limit: limit})
			if err != nil {
				return err
			}
			lines := make([]reconcileLine, 0, len(res))
			for _, r := range res {
				lines = append(lines, reconcileLine{MchID: r.Order.MchID, OutTradeNo: r.Order.OutTradeNo, Before: string(r.Order.State),
					Platform: string(r.Platform), After: string(r.After), Changed: r.Changed, Error: errText(r.Err)})
			}
			var refundLines []reconcileLine
			if refunds {
				rres, err := p.ReconcileRefunds(cmd.Context(), store.RefundQuery{MchID: mchID, Limit: limit})
				if err != nil {
					return err
				}
				for _, r := range rres {
					refundLines = append(refundLines, reconcileLine{MchID: r.Refund.MchID, OutTradeNo: r.Refund.OutTradeNo,
						OutRefundNo: r.Refund.OutRefundNo, Before: string(r.Refund.State), Platform: string(r.Platform),
						After: string(r.After), Changed: r.Changed, Error: errText(r.Err)})
				}
			}
			_, failedOrders := countLines(lines)
			_, failedRefunds := countLines(refundLines)
			if asJSON {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(append(lines, refundLines...)); err != nil {
					return err
				}
			} else if err := m.printReconcile(lines, refundLines, refunds); err != nil {
				return err
			}
			switch {
			case failedOrders > 0 && failedRefunds > 0:
				return &exitError{code: 1, msg: fmt.Sprintf("%d orders and %d refunds could not be reconciled", failedOrders, failedRefunds)}
			case failedOrders > 0:
				return &exitError{code: 1, msg: fmt.Sprintf("%d orders could not be reconciled", failedOrders)}
			case failedRefunds > 0:
				return &exitError{code: 1, msg: fmt.Sprintf("%d refunds could not be reconciled", failedRefunds)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFlag, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	f.StringVar(&mchID, "mch-id", "", "only the orders of this merchant")
	f.StringSliceVar(&states, "state", nil, "reconcile orders in these states instead of the open ones")
	f.IntVar(&limit, "limit", 0, "at most this many orders, and refunds, per merchant (0: all)")
	f.BoolVar(&refunds, "refunds", true, "also settle PROCESSING refunds older than 5 minutes")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printReconcile prints the table of reconciled orders and its summary,
// then (when refunds were reconciled) those of refunds.
func (m *Main) printReconcile(orders, refunds []reconcileLine, withRefunds bool) error {
	result := func(l reconcileLine) string {
		switch {
		case l.Error != "":
			return "error: " + l.Error
		case l.Changed:
			return "changed"
		}
		return "unchanged"
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MCH_ID\tOUT_TRADE_NO\tBEFORE\tPLATFORM\tAFTER\tRESULT")
	for _, l := range orders {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.MchID, l.OutTradeNo, l.Before, dash(l.Platform), l.After, result(l))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	changed, failed := countLines(orders)
	fmt.Fprintf(m.Stdout, "%d orders reconciled: %d changed, %d failed\n", len(orders), changed, failed)
	if !withRefunds {
		return nil
	}
	if len(refunds) > 0 {
		tw = tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MCH_ID\tOUT_REFUND_NO\tOUT_TRADE_NO\tBEFORE\tPLATFORM\tAFTER\tRESULT")
		for _, l := range refunds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.MchID, l.OutRefundNo, l.OutTradeNo, l.Before, dash(l.Platform), l.After, result(l))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	changed, failed = countLines(refunds)
	fmt.Fprintf(m.Stdout, "%d refunds reconciled: %d changed, %d failed\n", len(refunds), changed, failed)
	return nil
}

// countLines counts the lines that changed and those that failed.
func countLines(lines []reconcileLine) (changed, failed int) {
	for _, l := range lines {
		switch {
		case l.Error != "":
			failed++
		case l.Changed:
			changed++
		}
	}
	return changed, failed
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
