package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// payState is the merchant platform: merchants, their orders and refunds,
// and the events due on the emulator clock (notify retries, refunds that
// complete). Everything but the merchants' keys is guarded by mu.
type payState struct {
	e *Emulator

	mu        sync.Mutex
	merchants map[string]*merchant
	order     []string             // mch_ids in configuration order
	byPrepay  map[string]*payOrder // every prepay_id ever issued
	seq       uint64               // for transaction and refund ids
	bills     map[string]*billFile // v3 bill downloads by token

	sched payScheduler
}

func newPayState(e *Emulator, ms []MerchantConfig) *payState {
	p := &payState{e: e, merchants: map[string]*merchant{}, byPrepay: map[string]*payOrder{}}
	p.sched.p = p
	for _, mc := range ms {
		p.merchants[mc.MchID] = newMerchant(e, mc)
		p.order = append(p.order, mc.MchID)
	}
	return p
}

// merchant returns the hosted merchant with mchID, or nil.
func (p *payState) merchant(mchID string) *merchant {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.merchants[mchID]
}

// TradeState is an order's state (trade_state) as the platform reports it.
type TradeState string

// The trade states the emulator uses. An order is NOTPAY until the user
// pays (SUCCESS), the payment fails (PAYERROR) or the merchant closes it
// (CLOSED); a paid order with a refund is REFUND.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2
const (
	TradeStateNotPay   TradeState = "NOTPAY"
	TradeStateSuccess  TradeState = "SUCCESS"
	TradeStateRefund   TradeState = "REFUND"
	TradeStateClosed   TradeState = "CLOSED"
	TradeStatePayError TradeState = "PAYERROR"
)

// tradeStateDesc are the platform's trade_state_desc texts.
var tradeStateDesc = map[TradeState]string{
	TradeStateNotPay:   "订单未支付",
	TradeStateSuccess:  "支付成功",
	TradeStateRefund:   "订单发生过退款",
	TradeStateClosed:   "订单已关闭",
	TradeStatePayError: "支付失败，请重新下单支付",
}

// Refund states (v3 status / refund_status; v2 says REFUNDCLOSE for
// CLOSED and CHANGE for ABNORMAL: see v2RefundStatus).
const (
	refundProcessing = "PROCESSING"
	refundSuccess    = "SUCCESS"
	refundClosed     = "CLOSED"
	refundAbnormal   = "ABNORMAL"
)

// v2RefundStatus is the v2 refund_status of a refund in state st:
// SUCCESS, PROCESSING, REFUNDCLOSE (closed) or CHANGE (abnormal).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5
func v2RefundStatus(st string) string {
	switch st {
	case refundClosed:
		return "REFUNDCLOSE"
	case refundAbnormal:
		return "CHANGE"
	}
	return st
}

// payOrder is one order of a merchant.
type payOrder struct {
	m       *merchant
	version string // "v2" or "v3": the API that created it, and the notify format
	params  prepayParams

	createdAt time.Time
	prepayID  string
	prepayAt  time.Time
	state     TradeState
	txnID     string
	paidAt    time.Time
	payer     string // openid of who paid
	bank      string // bank_type
	coupons   []Coupon
	refunds   []*payRefund
	refunded  int64 // sum of the refunds' amounts
	notifies  []NotifyAttempt
	payNotify *notifyJob
}

// prepayParams are the parameters of an order (v2 unifiedorder or v3
// prepay). Two calls with the same out_trade_no and different params are a
// duplicate order number.
type prepayParams struct {
	AppID       string
	Description string // v2 body
	OutTradeNo  string
	Attach      string
	NotifyURL   string
	TradeType   string // JSAPI, NATIVE, MWEB, APP
	OpenID      string
	ProductID   string
	Amount      int64
	FeeType     string
	DeviceInfo  string
	GoodsTag    string
	TimeExpire  time.Time
	SignType    string // v2: the sign_type of responses and notifies
}

// same reports whether a repeated prepay call has the same parameters.
func (a prepayParams) same(b prepayParams) bool {
	return a.AppID == b.AppID && a.Description == b.Description && a.Attach == b.Attach &&
		a.NotifyURL == b.NotifyURL && a.TradeType == b.TradeType && a.OpenID == b.OpenID &&
		a.ProductID == b.ProductID && a.Amount == b.Amount && a.TimeExpire.Equal(b.TimeExpire)
}

// payRefund is one refund of an order.
type payRefund struct {
	order       *payOrder
	version     string
	outRefundNo string
	refundID    string
	amount      int64
	reason      string
	notifyURL   string
	createdAt   time.Time
	dueAt       time.Time // when it succeeds
	state       string    // refundProcessing, refundSuccess, refundClosed or refundAbnormal
	successAt   time.Time // when it succeeded; zero unless SUCCESS
	notify      *notifyJob
}

// Coupon is a discount applied to a payment (代金券/优惠券); the user pays
// the order amount minus the coupons.
type Coupon struct {
	// ID is the coupon id (coupon_id_$n / promotion_detail.coupon_id).
	ID string `json:"id"`
	// Type is CASH (代金券) or NO_CASH (优惠券); CASH when empty.
	Type string `json:"type,omitempty"`
	// Amount is the discount in fen (coupon_fee_$n / promotion_detail.amount).
	Amount int64 `json:"amount"`
}

// payError is a business error answered by both APIs: v2 as result_code
// FAIL with err_code / err_code_des, v3 as HTTP Status with code / message.
type payError struct {
	V2, V2Des string
	Status    int
	V3, V3Msg string
}

func (e *payError) Error() string { return e.V2 + ": " + e.V2Des }

var (
	errOrderPaid = &payError{V2: "ORDERPAID", V2Des: "该订单已支付",
		Status: http.StatusForbidden, V3: "ORDERPAID", V3Msg: "该订单已支付"}
	errOrderClosed = &payError{V2: "ORDERCLOSED", V2Des: "订单已关闭",
		Status: http.StatusBadRequest, V3: "ORDER_CLOSED", V3Msg: "订单已关闭"}
	errOrderNotExist = &payError{V2: "ORDERNOTEXIST", V2Des: "order not exist",
		Status: http.StatusNotFound, V3: "ORDER_NOT_EXIST", V3Msg: "订单不存在"}
	errDuplicateOrder = &payError{V2: "INVALID_REQUEST", V2Des: "201 商户订单号重复",
		Status: http.StatusBadRequest, V3: "INVALID_REQUEST", V3Msg: "201 商户订单号重复"}
	errRefundTooMuch = &payError{V2: "INVALID_REQUEST", V2Des: "refund_fee大于可退金额",
		Status: http.StatusBadRequest, V3: "INVALID_REQUEST", V3Msg: "申请退款金额超过订单可退金额"}
	errRefundMismatch = &payError{V2: "INVALID_REQUEST", V2Des: "订单金额或退款金额与之前请求不一致，请核实后再试",
		Status: http.StatusBadRequest, V3: "INVALID_REQUEST", V3Msg: "订单金额或退款金额与之前请求不一致，请核实后再试"}
	errRefundTotal = &payError{V2: "INVALID_REQUEST", V2Des: "订单金额total_fee与实际订单金额不一致",
		Status: http.StatusBadRequest, V3: "INVALID_REQUEST", V3Msg: "订单金额total与实际订单金额不一致"}
	errRefundNotPaid = &payError{V2: "TRADE_STATE_ERROR", V2Des: "订单状态错误",
		Status: http.StatusForbidden, V3: "TRADE_ERROR", V3Msg: "订单未支付，不能退款"}
	errRefundNotExist = &payError{V2: "REFUNDNOTEXIST", V2Des: "not exist",
		Status: http.StatusNotFound, V3: "RESOURCE_NOT_EXISTS", V3Msg: "退款单不存在"}
	errRefundOrderNotExist = &payError{V2: "ORDERNOTEXIST", V2Des: "订单不存在",
		Status: http.StatusNotFound, V3: "RESOURCE_NOT_EXISTS", V3Msg: "订单不存在"}
)

// paramError is a PARAM_ERROR with a message naming the field.
func paramError(des string) *payError {
	return &payError{V2: "PARAM_ERROR", V2Des: des, Status: http.StatusBadRequest, V3: "PARAM_ERROR", V3Msg: des}
}

// prepay creates or finds the order of params for m (unifiedorder, v3
// jsapi/native): the same out_trade_no with the same parameters gives the
// same prepay_id while it lasts (a new one after), other parameters
// INVALID_REQUEST, a paid order ORDERPAID, a closed one ORDERCLOSED.
func (p *payState) prepay(m *merchant, version string, params prepayParams) (*payOrder, *payError) {
	now := p.e.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	o := m.orders[params.OutTradeNo]
	if o != nil {
		switch o.state {
		case TradeStateSuccess, TradeStateRefund:
			return nil, errOrderPaid
		case TradeStateClosed:
			return nil, errOrderClosed
		}
		if o.version != version || !o.params.same(params) {
			return nil, errDuplicateOrder
		}
		if now.Sub(o.prepayAt) >= m.cfg.PrepayLifetime {
			o.prepayID, o.prepayAt = newPrepayID(now), now
			p.byPrepay[o.prepayID] = o
		}
		return o, nil
	}
	o = &payOrder{m: m, version: version, params: params, createdAt: now, state: TradeStateNotPay}
	o.prepayID, o.prepayAt = newPrepayID(now), now
	m.orders[params.OutTradeNo] = o
	p.byPrepay[o.prepayID] = o
	p.e.stats.recordPayOrder(m.cfg.MchID)
	return o, nil
}

// newPrepayID returns a prepay_id in the platform's shape: "wx" + the time
// (yyyyMMddHHmmss, China time) + 20 hex digits.
func newPrepayID(now time.Time) string {
	return "wx" + now.In(beijing).Format("20060102150405") + randomString(20, "0123456789abcdef")
}

// newTransactionID returns a 28-digit transaction_id: "4200" + 6 digits +
// the date + 10 digits. p.mu must be held.
func (p *payState) newTransactionID(now time.Time) string {
	p.seq++
	return fmt.Sprintf("4200%06d%s%010d", p.seq%1e6, now.In(beijing).Format("20060102"), randomInt(0, 999999999))
}

// newRefundID returns a 29-digit refund_id: "503" + 8 digits + the date +
// 10 digits. p.mu must be held.
func (p *payState) newRefundID(now time.Time) string {
	p.seq++
	return fmt.Sprintf("503%08d%s%010d", p.seq%1e8, now.In(beijing).Format("20060102"), randomInt(0, 999999999))
}

// findOrder returns m's order by transaction_id (preferred, as the platform
// does) or out_trade_no. p.mu must be held.
func (m *merchant) findOrder(txnID, outTradeNo string) *payOrder {
	if txnID != "" {
		return m.byTxn[txnID]
	}
	return m.orders[outTradeNo]
}

// closeOrder closes an unpaid order: ORDERPAID when it was paid; closing a
// closed order is reported as errOrderClosed (v2 answers it, v3 ignores it).
func (p *payState) closeOrder(o *payOrder) *payError {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch o.state {
	case TradeStateSuccess, TradeStateRefund:
		return errOrderPaid
	case TradeStateClosed:
		return errOrderClosed
	}
	o.state = TradeStateClosed
	return nil
}

// Errors of the user-side pay control API.
var (
	// ErrUnknownPrepay: no such prepay_id.
	ErrUnknownPrepay = errors.New("emulator: unknown prepay_id")
	// ErrPrepayExpired: the prepay_id is older than its lifetime (2h).
	ErrPrepayExpired = errors.New("emulator: prepay_id expired")
	// ErrOrderNotPayable: the order is paid, closed, failed or past its
	// time_expire.
	ErrOrderNotPayable = errors.New("emulator: the order cannot be paid")
	// ErrWrongPayer: a JSAPI order is paid by another user than its openid.
	ErrWrongPayer = errors.New("emulator: the order belongs to another user")
	// ErrBadPayParams: the front-end pay parameters do not verify (支付验证签名失败).
	ErrBadPayParams = errors.New("emulator: 支付验证签名失败")
	// ErrUnknownOrder: the merchant has no such out_trade_no.
	ErrUnknownOrder = errors.New("emulator: unknown out_trade_no")
	// ErrOrderNotPaid: there is no pay notify to send for an unpaid order.
	ErrOrderNotPaid = errors.New("emulator: the order is not paid")
	// ErrBadPayment: the Payment is invalid (a coupon without id or amount,
	// coupons covering the whole amount).
	ErrBadPayment = errors.New("emulator: bad payment")
)

// Payment is what the user does on the pay sheet (Emulator.PayOrder).
type Payment struct {
	// OpenID is who pays. A JSAPI order can only be paid by its openid
	// (empty means that user); a NATIVE order needs one (empty means the
	// first user of the app, when the emulator hosts it).
	OpenID string `json:"openid,omitempty"`
	// Coupons are discounts applied to the payment; they show in the notify
	// and the query (coupon_* in v2, promotion_detail in v3).
	Coupons []Coupon `json:"coupons,omitempty"`
	// BankType is the payer's bank (bank_type); OTHERS when empty.
	BankType string `json:"bank_type,omitempty"`
	// PayParams, when given, are checked as the WeChat client checks what
	// getBrandWCPayRequest / wx.requestPayment receives: appId, timeStamp,
	// nonceStr, package ("prepay_id=..."), signType and paySign (MD5 or
	// HMAC-SHA256 with the API key for a v2 order, RSA with the merchant key
	// for v3). A mismatch fails with ErrBadPayParams.
	PayParams map[string]string `json:"pay_params,omitempty"`
}

// PayOrder makes a user pay the order of prepayID, as on the WeChat pay
// sheet: the order becomes SUCCESS with a new transaction_id, and the pay
// notify is pushed to the order's notify_url (in the background, retried on
// the platform's schedule). It returns the transaction_id.
//
// Errors: ErrUnknownPrepay, ErrPrepayExpired, ErrOrderNotPayable,
// ErrWrongPayer, ErrBadPayParams, ErrUnknownUser (NATIVE order without a
// payer).
func (e *Emulator) PayOrder(prepayID string, pay Payment) (string, error) {
	p := e.pay
	o, err := p.payableOrder(prepayID)
	if err != nil {
		return "", err
	}
	if pay.PayParams != nil {
		if err := p.checkPayParams(o, pay.PayParams); err != nil {
			return "", err
		}
	}
	payer := pay.OpenID
	if payer == "" {
		payer = o.params.OpenID
	}
	if payer == "" {
		if a := e.app(o.params.AppID); a != nil {
			a.mu.Lock()
			if len(a.users) > 0 {
				payer = a.users[0].OpenID
			}
			a.mu.Unlock()
		}
	}
	if payer == "" {
		return "", fmt.Errorf("%w: give the payer's openid", ErrUnknownUser)
	}
	if o.params.OpenID != "" && payer != o.params.OpenID {
		return "", fmt.Errorf("%w: %s", ErrWrongPayer, o.params.OpenID)
	}
	if perr := e.checkPayer(o.params.AppID, payer); perr != nil {
		return "", fmt.Errorf("%w: %q is not a user of %s", ErrUnknownUser, payer, o.params.AppID)
	}
	var couponSum int64
	for i, c := range pay.Coupons {
		if c.Amount <= 0 || c.ID == "" {
			return "", fmt.Errorf("%w: coupon %d needs an id and a positive amount", ErrBadPayment, i)
		}
		if c.Type != "" && c.Type != "CASH" && c.Type != "NO_CASH" {
			return "", fmt.Errorf("%w: coupon %d: type must be CASH or NO_CASH", ErrBadPayment, i)
		}
		couponSum += c.Amount
	}
	if couponSum >= o.params.Amount {
		return "", fmt.Errorf("%w: the coupons cover the whole amount", ErrBadPayment)
	}

	now := e.Now()
	p.mu.Lock()
	if err := o.payable(now); err != nil { // re-check under the lock: one payment only
		p.mu.Unlock()
		return "", err
	}
	o.state, o.paidAt, o.payer = TradeStateSuccess, now, payer
	o.txnID = p.newTransactionID(now)
	o.m.byTxn[o.txnID] = o
	o.bankType(pay.BankType)
	for _, c := range pay.Coupons {
		if c.Type == "" {
			c.Type = "CASH"
		}
		o.coupons = append(o.coupons, c)
	}
	p.mu.Unlock()
	e.stats.recordPayPaid(o.m.cfg.MchID)

	job, err := p.newPayNotify(o)
	if err != nil {
		e.logger.Error("emulator: pay notify", "mch_id", o.m.cfg.MchID, "out_trade_no", o.params.OutTradeNo, "err", err)
		return o.txnID, nil
	}
	p.mu.Lock()
	o.payNotify = job
	p.mu.Unlock()
	p.startNotify(job)
	return o.txnID, nil
}

// bankType records the payer's bank; p.mu must be held.
func (o *payOrder) bankType(b string) {
	if b == "" {
		b = "OTHERS"
	}
	o.bank = b
}

// payableOrder returns the order of prepayID if it can be paid now.
func (p *payState) payableOrder(prepayID string) (*payOrder, error) {
	now := p.e.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.byPrepay[prepayID]
	if o == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPrepay, prepayID)
	}
	if o.prepayID != prepayID || now.Sub(o.prepayAt) >= o.m.cfg.PrepayLifetime {
		return nil, fmt.Errorf("%w: %s", ErrPrepayExpired, prepayID)
	}
	if err := o.payable(now); err != nil {
		return nil, err
	}
	return o, nil
}

// payable reports why o cannot be paid at now; p.mu must be held.
func (o *payOrder) payable(now time.Time) error {
	if o.state != TradeStateNotPay {
		return fmt.Errorf("%w: it is %s", ErrOrderNotPayable, o.state)
	}
	if !o.params.TimeExpire.IsZero() && !now.Before(o.params.TimeExpire) {
		return fmt.Errorf("%w: past its time_expire", ErrOrderNotPayable)
	}
	return nil
}

// DeclinePayment is what the user does instead of paying: cancel the pay
// sheet (fail false: the order stays NOTPAY, as when the user taps ✕; no
// notify), or fail to pay (fail true: the order becomes PAYERROR, as when
// the bank refuses; no notify either). It returns the order's state.
// Errors: ErrUnknownPrepay, ErrPrepayExpired, ErrOrderNotPayable.
func (e *Emulator) DeclinePayment(prepayID string, fail bool) (TradeState, error) {
	p := e.pay
	o, err := p.payableOrder(prepayID)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if fail && o.state == TradeStateNotPay {
		o.state = TradeStatePayError
	}
	return o.state, nil
}

// refund creates (or, for a known out_refund_no with the same amount, finds)
// a refund of o. A new refund (created true) is PROCESSING; the caller
// takes its answer and then calls scheduleRefund, which makes it succeed
// RefundDelay later (so that with a zero delay the answer still says
// PROCESSING, as the platform's does).
func (p *payState) refund(o *payOrder, version, outRefundNo string, total, amount int64, reason, notifyURL string) (*payRefund, bool, *payError) {
	now := p.e.Now()
	m := o.m
	p.mu.Lock()
	if r := m.refunds[outRefundNo]; r != nil {
		p.mu.Unlock()
		if r.order != o || r.amount != amount {
			return nil, false, errRefundMismatch
		}
		return r, false, nil
	}
	switch {
	case o.state != TradeStateSuccess && o.state != TradeStateRefund:
		p.mu.Unlock()
		return nil, false, errRefundNotPaid
	case total != o.params.Amount:
		p.mu.Unlock()
		return nil, false, errRefundTotal
	case amount > o.params.Amount-o.refunded:
		p.mu.Unlock()
		return nil, false, errRefundTooMuch
	}
	if notifyURL == "" {
		notifyURL = m.cfg.RefundNotifyURL
	}
	r := &payRefund{
		order: o, version: version, outRefundNo: outRefundNo, refundID: p.newRefundID(now), amount: amount,
		reason: reason, notifyURL: notifyURL, createdAt: now, dueAt: now.Add(m.cfg.RefundDelay), state: refundProcessing,
	}
	m.refunds[outRefundNo] = r
	m.refundsID[r.refundID] = r
	o.refunds = append(o.refunds, r)
	o.refunded += amount
	o.state = TradeStateRefund
	p.mu.Unlock()
	p.e.stats.recordPayRefund(m.cfg.MchID)
	return r, true, nil
}

// scheduleRefund makes the new refund r succeed at its due time.
func (p *payState) scheduleRefund(r *payRefund) {
	p.sched.at(r.dueAt, func(due time.Time) { p.completeRefund(r, due) })
}

// completeRefund makes r SUCCESS at due and pushes its notify.
func (p *payState) completeRefund(r *payRefund, due time.Time) {
	p.mu.Lock()
	if r.state != refundProcessing {
		p.mu.Unlock()
		return
	}
	r.state, r.successAt = refundSuccess, due
	p.mu.Unlock()
	p.pushRefundNotify(r, due)
}

// pushRefundNotify sends the notify of r, which has just settled (SUCCESS,
// CLOSED or ABNORMAL), to its notify URL when it has one.
func (p *payState) pushRefundNotify(r *payRefund, at time.Time) {
	p.mu.Lock()
	url := r.notifyURL
	p.mu.Unlock()
	if url == "" {
		return
	}
	job, err := p.newRefundNotify(r)
	if err != nil {
		p.e.logger.Error("emulator: refund notify", "mch_id", r.order.m.cfg.MchID, "out_refund_no", r.outRefundNo, "err", err)
		return
	}
	p.mu.Lock()
	r.notify = job
	p.mu.Unlock()
	p.runNotify(job, at)
}

// Errors of FailRefund.
var (
	// ErrRefundSettled: the refund is no longer PROCESSING.
	ErrRefundSettled = errors.New("emulator: the refund is not PROCESSING")
	// ErrBadRefundStatus: a refund can fail as CLOSED or ABNORMAL only.
	ErrBadRefundStatus = errors.New("emulator: a refund fails as CLOSED or ABNORMAL")
)

// FailRefund settles the PROCESSING refund outRefundNo of mchID as the
// platform does when it cannot complete it: status "CLOSED" (退款关闭: the
// refund stayed PROCESSING for 7 days without funds; its amount may be
// refunded again under a new out_refund_no) or "ABNORMAL" (退款异常: the
// user's bank card is gone; the money waits for the merchant on the
// platform, so the amount stays refunded). "" means CLOSED. The refund
// then answers queries so (v2 refund_status REFUNDCLOSE or CHANGE, v3
// status CLOSED or ABNORMAL, no success time), and its notify (v2
// req_info, v3 REFUND.CLOSED or REFUND.ABNORMAL) is pushed to its notify
// URL in the background (Emulator.WaitNotifies waits for it) and retried
// as any notify. The order keeps its trade_state (REFUND
// once a refund was applied for). It returns the refund as it is now.
//
// Errors: ErrUnknownMerchant, ErrUnknownOrder (no such out_refund_no),
// ErrRefundSettled, ErrBadRefundStatus.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4013071031 ,
// https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func (e *Emulator) FailRefund(mchID, outRefundNo, status string) (RefundInfo, error) {
	if status == "" {
		status = refundClosed
	}
	if status != refundClosed && status != refundAbnormal {
		return RefundInfo{}, fmt.Errorf("%w: got %q", ErrBadRefundStatus, status)
	}
	p := e.pay
	now := e.Now()
	p.mu.Lock()
	m := p.merchants[mchID]
	if m == nil {
		p.mu.Unlock()
		return RefundInfo{}, fmt.Errorf("%w: %q", ErrUnknownMerchant, mchID)
	}
	r := m.refunds[outRefundNo]
	if r == nil {
		p.mu.Unlock()
		return RefundInfo{}, fmt.Errorf("%w: no refund %q", ErrUnknownOrder, outRefundNo)
	}
	if r.state != refundProcessing {
		p.mu.Unlock()
		return RefundInfo{}, fmt.Errorf("%w: %s is %s", ErrRefundSettled, outRefundNo, r.state)
	}
	r.state = status
	if status == refundClosed {
		r.order.refunded -= r.amount
	}
	info := r.info()
	p.mu.Unlock()
	p.sched.at(now, func(due time.Time) { p.pushRefundNotify(r, due) })
	return info, nil
}
