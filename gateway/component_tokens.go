package gateway

import (
	"errors"
	"net/http"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// authorizerSource resolves GET /token/{authorizer_appid}?component={component_appid}
// (and its /invalidate): the authorizer_access_token of an account that
// authorized the component, from the shared store or refreshed with its
// stored refresh token (once per lifetime for every instance). Only
// type=access_token is served. When it returns false it has answered r:
// 404 for a component that is not configured (40013) or an account that
// has not authorized it or cancelled (61003), 400 for another type.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html
func (s *tokenService) authorizerSource(w http.ResponseWriter, r *http.Request, componentAppID, appID string) (tokenSource, string, token.Kind, bool) {
	var cs *componentState
	if s.components != nil {
		cs = s.components.byID[componentAppID]
	}
	if cs == nil {
		writeJSON(w, http.StatusNotFound, tokenError{ErrCode: 40013, ErrMsg: "invalid component: not configured in this gateway"})
		return nil, "", "", false
	}
	kind := token.Kind(r.URL.Query().Get("type"))
	if kind != "" && kind != token.KindAccessToken {
		writeJSON(w, http.StatusBadRequest, tokenError{ErrCode: 40097, ErrMsg: "invalid type: an authorizer's token is served as access_token only"})
		return nil, "", "", false
	}
	if !appIDPattern.MatchString(appID) {
		writeJSON(w, http.StatusNotFound, tokenError{ErrCode: 61003, ErrMsg: "component is not authorized by this account"})
		return nil, "", "", false
	}
	a, err := cs.comp.Authorizer(r.Context(), appID)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !a.Authorized):
		writeJSON(w, http.StatusNotFound, tokenError{ErrCode: 61003, ErrMsg: "component is not authorized by this account"})
		return nil, "", "", false
	case err != nil:
		s.logger.ErrorContext(r.Context(), "token service: reading the authorizer failed", "component_appid", componentAppID,
			"authorizer_appid", appID, "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, tokenError{ErrCode: -1, ErrMsg: "token store unavailable (see the gateway log)"})
		return nil, "", "", false
	}
	src, ok := cs.comp.AuthorizerTokenSource(appID).(tokenSource)
	if !ok {
		writeJSON(w, http.StatusInternalServerError, tokenError{ErrCode: -1, ErrMsg: "authorizer token source cannot be invalidated"})
		return nil, "", "", false
	}
	return src, appID, token.KindAccessToken, true
}
