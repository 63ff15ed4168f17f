package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxkit/wxkit/emulator"
)

func (m *Main) pushCommand() *cobra.Command {
	var (
		emuURL, appID, user     string
		text, event, key, click string
		rawXMLFile              string
		asJSON                  bool
		timeout                 time.Duration
	)
	cmd := &cobra.Command{
		Use:   "push (--text TEXT | --event EVENT [--key KEY] | --click KEY | --raw-xml FILE)",
		Short: "Make an emulated user send a message to an app and print what the user sees",
		Long: `Ask the emulator (POST /_emulator/apps/{appid}/push) to deliver a message or event
from a user to the app's server, the way WeChat does, and print what the user sees:
the reply text, a summary of a media reply, or nothing. Exits 1 when the server did
not answer validly (the user would see "` + emulator.ServiceUnavailableText + `").

The emulator is --emulator, else $WXKIT_EMULATOR, else http://` + DevEmulatorAddr + `;
the app is --app, else the emulator's first app; the user is --user, else the app's
first user.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var req emulator.PushRequest
			n := 0
			if cmd.Flags().Changed("text") {
				n++
				req.Type, req.Content = emulator.MsgTypeText, text
			}
			if event != "" {
				n++
				req.Type, req.Event, req.EventKey = emulator.MsgTypeEvent, emulator.EventType(event), key
			}
			if click != "" {
				n++
				req.Type, req.Event, req.EventKey = emulator.MsgTypeEvent, emulator.EventTypeClick, click
			}
			if rawXMLFile != "" {
				n++
				b, err := os.ReadFile(rawXMLFile)
				if err != nil {
					return err
				}
				req.RawXML = string(b)
			}
			if n != 1 {
				return fmt.Errorf("push: give exactly one of --text, --event, --click or --raw-xml")
			}
			req.User = user
			if emuURL == "" {
				emuURL = m.getenv("WXKIT_EMULATOR")
			}
			if emuURL == "" {
				emuURL = "http://" + DevEmulatorAddr
			}
			emuURL = strings.TrimRight(emuURL, "/")
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if appID == "" {
				var err error
				if appID, err = firstApp(ctx, emuURL); err != nil {
					return err
				}
			}
			res, err := pushVia(ctx, emuURL, appID, req)
			if err != nil {
				return err
			}
			if asJSON {
				// Unescaped, so that the reply's XML reads as XML.
				enc := json.NewEncoder(m.Stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else if res.OK() && res.NoReply {
				// The account answered "success" (or nothing): the user sees
				// no reply. Say so on stderr so that stdout stays the reply.
				fmt.Fprintln(m.Stderr, "(no reply: the server answered success)")
			} else if res.UserSees != "" || res.OK() {
				fmt.Fprintln(m.Stdout, res.UserSees)
			}
			if res.Blocked {
				return &exitError{code: 1, msg: "push: not delivered: the account has blacklisted this user"}
			}
			if !res.OK() {
				return &exitError{code: 1, msg: "push: " + res.Error}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&emuURL, "emulator", "", "emulator base URL (default $WXKIT_EMULATOR, else http://"+DevEmulatorAddr+")")
	f.StringVar(&appID, "app", "", "AppID (default: the emulator's first app)")
	f.StringVar(&user, "user", "", "sender openid (default: the app's first user)")
	f.StringVar(&text, "text", "", "send a text message")
	f.StringVar(&event, "event", "", "cause an event (subscribe, unsubscribe, SCAN, LOCATION, CLICK, VIEW, ...)")
	f.StringVar(&key, "key", "", "EventKey of --event")
	f.StringVar(&click, "click", "", "click the menu button with this key (a CLICK event)")
	f.StringVar(&rawXMLFile, "raw-xml", "", "push this XML file as the message (ToUserName/FromUserName are set by the emulator)")
	f.BoolVar(&asJSON, "json", false, "print the emulator's whole PushResult as indented JSON (XML unescaped)")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long (WeChat retries take up to 3 × 5 s)")
	return cmd
}

// controlError is the emulator's error body.
type controlError struct {
	Error string `json:"error"`
}

// pushVia calls POST {emuURL}/_emulator/apps/{appid}/push.
func pushVia(ctx context.Context, emuURL, appID string, req emulator.PushRequest) (*emulator.PushResult, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var res emulator.PushResult
	if err := controlCall(ctx, http.MethodPost, emuURL+"/_emulator/apps/"+url.PathEscape(appID)+"/push", body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// firstApp returns the AppID of the emulator's first app.
func firstApp(ctx context.Context, emuURL string) (string, error) {
	var apps struct {
		Apps []emulator.AppInfo `json:"apps"`
	}
	if err := controlCall(ctx, http.MethodGet, emuURL+"/_emulator/apps", nil, &apps); err != nil {
		return "", err
	}
	if len(apps.Apps) == 0 {
		return "", fmt.Errorf("push: the emulator at %s hosts no app", emuURL)
	}
	return apps.Apps[0].AppID, nil
}

func controlCall(ctx context.Context, method, u string, body []byte, v any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("emulator not reachable (start it with `wxkit serve` or `wxkit emulator`): %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var ce controlError
		if json.Unmarshal(b, &ce) == nil && ce.Error != "" {
			return fmt.Errorf("%s %s: %d: %s", method, u, resp.StatusCode, ce.Error)
		}
		return fmt.Errorf("%s %s: status %d", method, u, resp.StatusCode)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s %s: bad JSON answer: %w", method, u, err)
	}
	return nil
}
