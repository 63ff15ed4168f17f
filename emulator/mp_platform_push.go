package emulator

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// pushPlatformEvent pushes an event the platform itself sends about the
// account's own calls (MASSSENDJOBFINISH, kf_create_session,
// kf_close_session) as from openID: signed and encrypted like every push,
// delivered up to PushConfig.Attempts times, counted in stats and logged
// in openID's conversation. Unlike Push, the answer is not a reply to
// anyone: a failed or invalid answer changes nothing the user sees, and a
// blacklisted user does not stop the event. raw is the event's inner XML
// (MsgType, Event and its fields). It returns the deliveries made.
func (e *Emulator) pushPlatformEvent(ctx context.Context, appID, openID, raw string) ([]Attempt, error) {
	a := e.app(appID)
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	now := e.Now()
	tgt := e.pushTargetOf(a)
	if tgt.url == "" {
		return nil, fmt.Errorf("%w: %s", ErrNoPushURL, appID)
	}
	in, err := buildRawInbound(raw, a.cfg.OriginalID, openID, now)
	if err != nil {
		return nil, err
	}
	if tgt.json {
		if in.JSON, err = pushJSON(in.XML); err != nil {
			return nil, err
		}
	}
	e.logInbound(a, in, now)
	res := &PushResult{AppID: appID, User: openID, Message: in}
	for i := 0; i < e.cfg.Push.Attempts; i++ {
		if err := ctx.Err(); err != nil {
			break
		}
		att, _, retry := e.deliver(ctx, func(ctx context.Context) (*http.Request, error) { return e.signedPushRequest(ctx, tgt, in) })
		res.Attempts = append(res.Attempts, att)
		if !retry {
			break
		}
	}
	failed := len(res.Attempts) == 0 || res.Attempts[len(res.Attempts)-1].Error != ""
	e.stats.recordPush(appID, len(res.Attempts), failed)
	recordDeliveries(a, res.Attempts, now)
	e.logConversation(a, in, res, now) // the delivery count only: no reply, no error
	return res.Attempts, nil
}

// pushPlatformEventLater runs pushPlatformEvent at due (emulator time) on
// the platform's scheduler, so that WaitMassJobs waits for it.
func (e *Emulator) pushPlatformEventLater(due time.Time, appID, openID, raw string) {
	e.pay.sched.at(due, func(time.Time) {
		if _, err := e.pushPlatformEvent(context.Background(), appID, openID, raw); err != nil {
			e.logger.Debug("emulator: platform event not pushed", "appid", appID, "err", err)
		}
	})
}
