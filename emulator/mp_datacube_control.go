package emulator

import (
	"errors"
	"net/http"
)

// articleControlRoutes adds the article records of the data APIs to the
// control API (see the package documentation):
//
//	POST /_emulator/apps/{appid}/articles         SentArticle → SentArticle (an article sent to followers)
//	POST /_emulator/apps/{appid}/articles/events  ArticleEvent → ArticleEvent (a reader read, shared or saved one)
//
// Errors are {"error"}: 404 an unknown app, 400 a bad body.
func (e *Emulator) articleControlRoutes(m *http.ServeMux) {
	fail := func(w http.ResponseWriter, err error) {
		status := http.StatusBadRequest
		if errors.Is(err, ErrUnknownApp) || errors.Is(err, ErrUnknownUser) {
			status = http.StatusNotFound
		}
		controlFail(w, status, err)
	}
	m.HandleFunc("POST /_emulator/apps/{appid}/articles", func(w http.ResponseWriter, r *http.Request) {
		var s SentArticle
		if err := decodeControl(r, &s); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		if s.SentAt.IsZero() {
			s.SentAt = e.Now()
		}
		if err := e.RecordArticleSent(r.PathValue("appid"), s); err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, s)
	})
	m.HandleFunc("POST /_emulator/apps/{appid}/articles/events", func(w http.ResponseWriter, r *http.Request) {
		var ev ArticleEvent
		if err := decodeControl(r, &ev); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		ev, err := e.RecordArticleEvent(r.PathValue("appid"), ev)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, ev)
	})
}
