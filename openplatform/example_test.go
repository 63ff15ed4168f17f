package openplatform_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/openplatform"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// fakeAPI stands in for api.weixin.qq.com (the emulator plays this part in
// development).
func fakeAPI() *httptest.Server {
	mux := http.NewServeMux()
	reply := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, body)
		}
	}
	mux.Handle("POST /cgi-bin/component/api_component_token", reply(`{"component_access_token":"componenttoken","expires_in":7200}`))
	mux.Handle("POST /cgi-bin/component/api_create_preauthcode", reply(`{"pre_auth_code":"preauthcode@@@1","expires_in":1800}`))
	mux.Handle("POST /cgi-bin/component/api_query_auth", reply(`{"authorization_info":{"authorizer_appid":"wxf8b4f85f3a794e77",
		"authorizer_access_token":"authorizertoken","expires_in":7200,"authorizer_refresh_token":"refreshtoken@@@1",
		"func_info":[{"funcscope_category":{"id":1}},{"funcscope_category":{"id":15}}]}}`))
	mux.Handle("POST /cgi-bin/component/api_get_authorizer_info", reply(`{"authorizer_info":{"nick_name":"Demo","user_name":"gh_eb5e3a772040"},
		"authorization_info":{"authorizer_appid":"wxf8b4f85f3a794e77"}}`))
	mux.Handle("POST /cgi-bin/menu/create", reply(`{"errcode":0,"errmsg":"ok"}`))
	return httptest.NewServer(mux)
}

func Example() {
	api := fakeAPI()
	defer api.Close()
	ctx := context.Background()

	const (
		componentAppID = "wxcomponentappid1"
		msgToken       = "componenttoken"
		aesKey         = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	)
	key := make([]byte, 32) // in production: kept with the deployment's secrets
	rand.Read(key)
	aead, err := openplatform.NewRefreshTokenCipher(key)
	if err != nil {
		log.Fatal(err)
	}
	c, err := openplatform.NewComponent(componentAppID, "component-secret", msgToken, aesKey,
		openplatform.WithBaseURL(api.URL),
		openplatform.WithRefreshTokenCipher(aead)) // and WithTokenStore, WithAuthorizers to share them
	if err != nil {
		log.Fatal(err)
	}

	// WeChat pushes a component_verify_ticket to the authorization event
	// URL every 10 minutes.
	notify := c.NotifyServer()
	ticket := `<xml><AppId>` + componentAppID + `</AppId><CreateTime>` + strconv.FormatInt(time.Now().Unix(), 10) +
		`</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>ticket@@@1</ComponentVerifyTicket></xml>`
	rec := httptest.NewRecorder()
	notify.ServeHTTP(rec, webhooktest.NewEncryptedRequest(msgToken, aesKey, componentAppID, []byte(ticket), webhook.ModeSafe, nil))
	fmt.Println("ticket push:", rec.Body)

	// An administrator opens the authorization link...
	pre, err := c.PreAuthCode(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.AuthorizeURL(pre.Code, "https://example.com/callback", openplatform.AuthTypeBoth, ""))

	// ...and approves: the redirect brings an authorization code.
	a, err := c.QueryAuth(ctx, "queryauthcode@@@1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("authorized:", a.AuthorizerAppID, a.FuncInfo)

	// Act for the account with the usual mp client.
	client, err := c.MPClient(a.AuthorizerAppID)
	if err != nil {
		log.Fatal(err)
	}
	err = client.Menu().Create(ctx, &mp.Menu{Buttons: []mp.Button{{Type: mp.ButtonTypeClick, Name: "Today", Key: "TODAY"}}})
	fmt.Println("menu set:", err == nil)

	list, _ := c.Authorizers(ctx)
	fmt.Println("authorizers:", len(list), list[0].UserName)
	// Output:
	// ticket push: success
	// https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wxcomponentappid1&pre_auth_code=preauthcode%40%40%401&redirect_uri=https%3A%2F%2Fexample.com%2Fcallback&auth_type=3
	// authorized: wxf8b4f85f3a794e77 [1 15]
	// menu set: true
	// authorizers: 1 gh_eb5e3a772040
}
