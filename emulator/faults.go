package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault makes the next Count calls of Path (optionally only those of
// AppID) misbehave: wait Delay, then answer ErrCode (with HTTP Status, 200
// when zero) or, with ErrCode 0 and a Status, answer that HTTP status with a
// plain-text body. A Fault with only a Delay slows the call down and then
// serves it normally.
type Fault struct {
	// Path is the exact API path, e.g. "/cgi-bin/token". Required.
	Path string `json:"path"`
	// AppID restricts the fault to calls of one app (by appid parameter,
	// access_token or JSON body appid). Empty matches every call.
	AppID string `json:"appid,omitempty"`
	// Count is how many calls the fault affects: 0 means 1, -1 means every
	// call until the faults are cleared.
	Count int `json:"count,omitempty"`
	// ErrCode is the errcode to answer, e.g. -1 (system error) or 45011.
	ErrCode int `json:"errcode,omitempty"`
	// ErrMsg overrides the platform's errmsg for ErrCode (a rid is appended).
	ErrMsg string `json:"errmsg,omitempty"`
	// Status is the HTTP status to answer (e.g. 503); 200 when zero.
	Status int `json:"status,omitempty"`
	// Delay is waited before answering ("2s" in JSON).
	Delay Duration `json:"delay,omitempty"`
	// FailDelivery leaves the call alone and makes the delivery that
	// follows it fail as the platform's systems can: the next Count
	// message/template/send calls that pass their checks answer their
	// msgid, the user gets nothing and TEMPLATESENDJOBFINISH carries Status
	// "failed: system failed". Calls refused with an errcode do not use
	// it up. Only for /cgi-bin/message/template/send, and not with
	// ErrCode, Status or Delay.
	FailDelivery bool `json:"fail_delivery,omitempty"`
}

// deliveryFaultPaths are the paths whose deliveries FailDelivery can fail.
var deliveryFaultPaths = []string{"/cgi-bin/message/template/send"}

// activeFault is an injected fault with its remaining count.
type activeFault struct {
	Fault
	left int // -1 = unlimited
}

// validate checks f.
func (f Fault) validate() error {
	if !strings.HasPrefix(f.Path, "/") {
		return fmt.Errorf("emulator: fault: path must start with /, got %q", f.Path)
	}
	if f.Count < -1 {
		return fmt.Errorf("emulator: fault: count must be -1 or more, got %d", f.Count)
	}
	if f.Status != 0 && (f.Status < 200 || f.Status > 599) {
		return fmt.Errorf("emulator: fault: status must be 200..599, got %d", f.Status)
	}
	if f.Delay < 0 {
		return fmt.Errorf("emulator: fault: negative delay")
	}
	if f.FailDelivery {
		if f.ErrCode != 0 || f.Status != 0 || f.Delay != 0 {
			return fmt.Errorf("emulator: fault: fail_delivery takes no errcode, status or delay")
		}
		if !slices.Contains(deliveryFaultPaths, f.Path) {
			return fmt.Errorf("emulator: fault: fail_delivery is for %s, got %q", strings.Join(deliveryFaultPaths, ", "), f.Path)
		}
		return nil
	}
	if f.ErrCode == 0 && f.Status == 0 && f.Delay == 0 {
		return fmt.Errorf("emulator: fault: give errcode, status, delay or fail_delivery")
	}
	return nil
}

// InjectFault adds f. Faults are matched in the order they were added; the
// first matching one with calls left is used.
func (e *Emulator) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	left := f.Count
	if left == 0 {
		left = 1
	}
	e.faultMu.Lock()
	e.faults = append(e.faults, &activeFault{Fault: f, left: left})
	e.faultMu.Unlock()
	return nil
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.faultMu.Lock()
	e.faults = nil
	e.faultMu.Unlock()
}

// Faults returns the injected faults that still have calls left, Count
// holding the calls left (-1 = unlimited).
func (e *Emulator) Faults() []Fault {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	out := make([]Fault, 0, len(e.faults))
	for _, f := range e.faults {
		g := f.Fault
		g.Count = f.left
		out = append(out, g)
	}
	return out
}

// takeFault returns the fault to apply to a call of path by appID, counting
// it, or nil. Delivery faults are left to takeDeliveryFault.
func (e *Emulator) takeFault(path, appID string) *Fault {
	return e.takeMatchingFault(path, appID, false)
}

// takeDeliveryFault reports whether a FailDelivery fault matches the
// delivery that follows a call of path by appID, counting it.
func (e *Emulator) takeDeliveryFault(path, appID string) bool {
	return e.takeMatchingFault(path, appID, true) != nil
}

// takeMatchingFault returns the first fault for a call of path by appID
// whose FailDelivery is delivery, counting it, or nil.
func (e *Emulator) takeMatchingFault(path, appID string, delivery bool) *Fault {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	for i, f := range e.faults {
		if f.Path != path || (f.AppID != "" && f.AppID != appID) || f.FailDelivery != delivery {
			continue
		}
		g := f.Fault
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		return &g
	}
	return nil
}

// applyFault waits f.Delay and writes the faulty answer. It returns false
// when the call must go on to its handler (a delay-only fault).
func (e *Emulator) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(time.Duration(f.Delay))
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true // the caller is gone
		}
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case f.ErrCode != 0:
		msg := f.ErrMsg
		if msg == "" {
			msg = errMsg(f.ErrCode)
		}
		writeStatusErrMsg(w, status, f.ErrCode, msg, e.Now())
		return true
	case f.Status != 0:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", status, http.StatusText(status))
		return true
	}
	return false
}
