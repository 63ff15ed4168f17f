package mp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/mp"
)

// startEmulator serves the emulator's demo configuration (one app, three
// followers) on a loopback server; the caller closes it.
func startEmulator() (*emulator.Emulator, *httptest.Server) {
	e, err := emulator.New(emulator.DefaultConfig())
	if err != nil {
		panic(err)
	}
	return e, httptest.NewServer(e)
}

func ExampleMenuService_Create() {
	_, srv := startEmulator()
	defer srv.Close()
	client, err := mp.NewClient(emulator.DemoAppID, emulator.DemoSecret, mp.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	menu := &mp.Menu{Buttons: []mp.Button{
		{Type: mp.ButtonTypeClick, Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"},
		{Name: "菜单", SubButtons: []mp.Button{
			{Type: mp.ButtonTypeView, Name: "搜索", URL: "https://www.soso.com/"},
		}},
	}}
	if err := client.Menu().Create(ctx, menu); err != nil {
		panic(err)
	}
	cfg, err := client.Menu().Get(ctx)
	if err != nil {
		panic(err)
	}
	for _, b := range cfg.Menu.Buttons {
		fmt.Println(b.Name, len(b.SubButtons))
	}
	// Output:
	// 今日歌曲 0
	// 菜单 1
}

func ExampleMenuLimits_Validate() {
	menu := &mp.Menu{Buttons: []mp.Button{
		{Type: mp.ButtonTypeClick, Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"},
		{Name: "菜单", SubButtons: []mp.Button{
			{Type: mp.ButtonTypeView, Name: "这是一个名字特别特别特别特别特别特别长的子菜单", URL: "https://www.soso.com/"},
		}},
	}}
	err := mp.DefaultMenuLimits().Validate(menu)
	fmt.Println(err)
	fmt.Println(errors.Is(err, &wxkit.APIError{ErrCode: 40025}))
	// Output:
	// mp: menu: button[1].sub_button[0] "这是一个名字特别特别特别特别特别特别长的子菜单": name is 69 bytes, limit 60 (errcode 40025)
	// true
}

func ExampleUserService_All() {
	_, srv := startEmulator()
	defer srv.Close()
	client, err := mp.NewClient(emulator.DemoAppID, emulator.DemoSecret, mp.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	n := 0
	for openID, err := range client.User().All(context.Background()) {
		if err != nil {
			panic(err)
		}
		_ = openID
		n++
	}
	fmt.Println(n, "followers")
	// Output:
	// 3 followers
}

func ExampleTagService_Create() {
	_, srv := startEmulator()
	defer srv.Close()
	client, err := mp.NewClient(emulator.DemoAppID, emulator.DemoSecret, mp.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	tag, err := client.Tag().Create(ctx, "VIP")
	if err != nil {
		panic(err)
	}
	_, err = client.Tag().Create(ctx, "VIP")
	fmt.Println(tag.Name, errors.Is(err, &wxkit.APIError{ErrCode: 45157}))
	// Output:
	// VIP true
}

func ExampleCustomerServiceService_SendText() {
	emu, srv := startEmulator()
	defer srv.Close()
	// The demo app's server: answer every push with "success".
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "success")
	}))
	defer app.Close()
	if err := emu.SetPushURL(emulator.DemoAppID, app.URL); err != nil {
		panic(err)
	}
	client, err := mp.NewClient(emulator.DemoAppID, emulator.DemoSecret, mp.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	user := emu.Apps()[0].Users[0].OpenID

	// No interaction from the user in the last 48 hours: refused.
	err = client.CustomerService().SendText(ctx, user, "您好")
	fmt.Println(errors.Is(err, wxkit.ErrResponseOutOfTime))

	// The user sends a message; the account may answer for 48 hours.
	if _, err := emu.Push(ctx, emulator.DemoAppID, emulator.PushRequest{User: user, Content: "在吗"}); err != nil {
		panic(err)
	}
	fmt.Println(client.CustomerService().SendText(ctx, user, "您好"))
	// Output:
	// true
	// <nil>
}

func ExampleRetryUnsafe() {
	emu, srv := startEmulator()
	defer srv.Close()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "success")
	}))
	defer app.Close()
	if err := emu.SetPushURL(emulator.DemoAppID, app.URL); err != nil {
		panic(err)
	}
	client, err := mp.NewClient(emulator.DemoAppID, emulator.DemoSecret, mp.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	user := emu.Apps()[0].Users[0].OpenID
	if _, err := emu.Push(ctx, emulator.DemoAppID, emulator.PushRequest{User: user, Content: "在吗"}); err != nil {
		panic(err)
	}
	busy := emulator.Fault{Path: "/cgi-bin/message/custom/send", ErrCode: -1}

	// A send that meets errcode -1 is not retried: the platform may have
	// delivered it.
	if err := emu.InjectFault(busy); err != nil {
		panic(err)
	}
	err = client.CustomerService().SendText(ctx, user, "您好")
	fmt.Println(errors.Is(err, wxkit.ErrSystemBusy))

	// The caller accepts a possible duplicate: retried with backoff.
	if err := emu.InjectFault(busy); err != nil {
		panic(err)
	}
	fmt.Println(client.CustomerService().SendText(ctx, user, "您好", mp.RetryUnsafe()))
	// Output:
	// true
	// <nil>
}

func ExampleShowQRCodeURL() {
	fmt.Println(mp.ShowQRCodeURL("gQH47joAAAAAAAAAASxodHRwOi8v+/=="))
	// Output:
	// https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH47joAAAAAAAAAASxodHRwOi8v%2B%2F%3D%3D
}
