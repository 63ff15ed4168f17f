package webhook

import "github.com/wxkit/wxkit/message"

// ImmediateHandler is an optional interface of a Handler that can answer
// some messages at once, without I/O and without waiting (a fixed text, an
// echo). The Server calls ServeImmediate on the request goroutine first: if
// it returns ok, r and err are the Handler's answer, handled as those of
// ServeMessage (nil r for "success"; an error is logged and answered
// "success"), and ServeMessage is not called, so no goroutine is started
// for the message; otherwise the Server calls ServeMessage under the
// deadline as usual. ServeImmediate runs outside the deadline guard: it
// must return promptly, and must not retain m. A panic in it is handled
// like one in ServeMessage.
//
// Mux implements it by asking the Handler it routes m to; NotFound answers
// every message at once.
type ImmediateHandler interface {
	Handler
	ServeImmediate(m *message.Message) (r message.Reply, ok bool, err error)
}
