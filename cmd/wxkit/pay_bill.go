package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/pay/tradebill"
)

// payBillCommand is `wxkit pay bill`: a merchant's trade bill of a day.
func (m *Main) payBillCommand() *cobra.Command {
	var configFlag, mchID, date, billType, out string
	var asJSON, check bool
	cmd := &cobra.Command{
		Use:   "bill --date YYYY-MM-DD [--mch-id ID] [--type ALL|SUCCESS|REFUND] [--check] [--json] [--out FILE]",
		Short: "Download a merchant's trade bill (对账单) of a day",
		Long: `Download the trade bill of a day (China time) from WeChat Pay with the merchant's
configured API (v2 downloadbill, or v3 tradebill with the download's SHA1 checked) and
print its rows and summary, amounts in yuan; --json prints them with amounts in fen;
--out also saves the bill's text as downloaded (decompressed).

The platform makes a day's bill from 09:00 the next day; download it after 10:00. A day
without payments or refunds has no bill.

--check compares the ALL bill with the gateway's store instead of printing it: every
payment row must be an order with the same out_trade_no, transaction_id and amount, paid
(SUCCESS or REFUND); every refund row a refund with the same out_refund_no and amount, in
the row's state (a row still PROCESSING matches any); and every order the store has as
paid that day must be in the bill. It prints one line per mismatch (kind, out_trade_no,
out_refund_no, the bill's value, the store's; amounts in fen) and a summary, and exits 1
when there is a mismatch; --json prints the mismatches as a JSON array. A day without a
bill is an empty bill once the bill is due. Run "wxkit pay reconcile" first: a lost
notify shows as a mismatch until the order or refund is reconciled.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if date == "" {
				return errors.New("--date is required (YYYY-MM-DD)")
			}
			bt := tradebill.Type(strings.ToUpper(billType))
			if !bt.Valid() {
				return fmt.Errorf("--type: %q is not a bill type (ALL, SUCCESS, REFUND, RECHARGE_REFUND)", billType)
			}
			if check && bt != tradebill.TypeAll {
				return errors.New("--check compares the ALL bill: leave --type out")
			}
			p, err := m.openPayments(cmd.Context(), configFlag)
			if err != nil {
				return err
			}
			defer p.Close()
			if mchID == "" {
				ids := p.MerchantIDs()
				if len(ids) != 1 {
					return fmt.Errorf("--mch-id: %d merchants are configured (%s); name one", len(ids), strings.Join(ids, ", "))
				}
				mchID = ids[0]
			}
			if check {
				return m.checkBill(cmd.Context(), p, mchID, date, out, asJSON)
			}
			b, data, err := p.TradeBill(cmd.Context(), mchID, date, bt)
			if err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, data, 0o600); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(b)
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tSTATE\tOUT_TRADE_NO\tTRANSACTION_ID\tAMOUNT\tREFUND\tOUT_REFUND_NO\tFEE")
			for _, r := range b.Rows {
				amount, refundNo := r.SettlementTotalFee, r.OutRefundNo
				if refundNo == "0" { // a payment row
					refundNo = ""
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.TradeTime.In(tradebill.ChinaTime).Format("2006-01-02 15:04:05"),
					r.TradeState, r.OutTradeNo, r.TransactionID, tradebill.FormatAmount(amount),
					tradebill.FormatAmount(r.SettlementRefundFee), dash(refundNo), tradebill.FormatAmount(r.Fee))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			s := b.Summary
			fmt.Fprintf(m.Stdout, "%d rows: settled %s, refunded %s, fees %s, orders %s\n", s.Count,
				tradebill.FormatAmount(s.SettlementTotalFee), tradebill.FormatAmount(s.RefundFee),
				tradebill.FormatAmount(s.Fee), tradebill.FormatAmount(s.TotalFee))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFlag, "config", "", "configuration file (default $WXKIT_CONFIG, else ./"+DefaultConfigFile+")")
	f.StringVar(&mchID, "mch-id", "", "the merchant (default: the only one configured)")
	f.StringVar(&mchID, "mch", "", "same as --mch-id")
	f.StringVar(&date, "date", "", "the day, China time (YYYY-MM-DD)")
	f.StringVar(&billType, "type", "ALL", "ALL, SUCCESS, REFUND or RECHARGE_REFUND")
	f.BoolVar(&asJSON, "json", false, "print JSON (amounts in fen)")
	f.BoolVar(&check, "check", false, "compare the bill with the gateway's store; exit 1 on a mismatch")
	f.StringVar(&out, "out", "", "also save the bill's text to this file")
	return cmd
}

// checkBill is `wxkit pay bill --check`: the day's bill of mchID against
// the store, one line per mismatch and a summary (--json: the mismatches
// as a JSON array); an exitError with status 1 when there is a mismatch.
func (m *Main) checkBill(ctx context.Context, p *gateway.Payments, mchID, date, out string, asJSON bool) error {
	res, err := p.CheckBill(ctx, mchID, date)
	if err != nil {
		return err
	}
	if out != "" && res.Data != nil {
		if err := os.WriteFile(out, res.Data, 0o600); err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res.Mismatches); err != nil {
			return err
		}
	} else {
		if len(res.Mismatches) > 0 {
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tOUT_TRADE_NO\tOUT_REFUND_NO\tBILL\tSTORE")
			for _, mm := range res.Mismatches {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mm.Kind, mm.OutTradeNo, dash(mm.OutRefundNo), dash(mm.Bill), dash(mm.Store))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		fmt.Fprintf(m.Stdout, "bill of %s for %s: %d rows, %d orders paid in the store; %d mismatches\n",
			res.Date, res.MchID, res.Rows, res.Paid, len(res.Mismatches))
	}
	if n := len(res.Mismatches); n > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d mismatches between the bill and the store", n)}
	}
	return nil
}
