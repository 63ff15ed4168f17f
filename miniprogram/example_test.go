package miniprogram_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wxkit/wxkit/miniprogram"
)

// The login flow: the code of wx.login is exchanged for a session, then the
// encryptedData of wx.getUserInfo is verified and decrypted with the
// session_key, which never leaves the server. A stand-in platform answers
// jscode2session with the session_key of WeChat's documented sample.
func Example() {
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","session_key":"tiihtNczf5v6AKRyjwEUhQ==","unionid":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}`)
	}))
	defer platform.Close()

	c, err := miniprogram.NewClient("wx4f4bc4dec97d474b", "app-secret", miniprogram.WithBaseURL(platform.URL))
	if err != nil {
		panic(err)
	}
	// 1. POST /login {"code"} from the Mini Program.
	s, err := c.Code2Session(context.Background(), "code-from-wx.login")
	if err != nil {
		panic(err)
	}
	fmt.Println("openid:", s.OpenID, "session_key:", s.SessionKey) // printed redacted

	// 2. POST /profile {"encrypted_data","iv"} from the Mini Program, with
	// the session found by the login's token.
	const (
		encryptedData = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
		iv            = "r7BXXKkLb8qrSNn05n0qiA=="
	)
	// The sample is from 2016: a live server passes time.Now() and a
	// maxAge such as 10 minutes.
	now := time.Unix(1477314187, 0).Add(time.Minute)
	u, err := miniprogram.DecryptUserInfo(c.AppID(), string(s.SessionKey), encryptedData, iv, now, 10*time.Minute)
	if err != nil {
		panic(err)
	}
	// Identity comes from the session, not from the decrypted data.
	fmt.Println("same user:", u.OpenID == s.OpenID, "nickname:", u.NickName, "city:", u.City)
	// Output:
	// openid: oGZUI0egBJY1zhBYw2KhdUfwVJJE session_key: tiih***
	// same user: true nickname: Band city: Guangzhou
}
