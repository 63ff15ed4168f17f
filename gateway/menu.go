package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/token"
)

// ParseMenuFile decodes a menu file (YAML, or WeChat's menu/create JSON,
// which is YAML too): a `button:` list with WeChat's field names (see
// MenuConfig). Unknown keys are refused, and the menu is checked with
// mp.DefaultMenuLimits; errors name the offending button
// ("button[1].sub_button[0] ...").
func ParseMenuFile(b []byte) (*MenuConfig, error) {
	var mc MenuConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&mc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("menu: empty file")
		}
		return nil, fmt.Errorf("menu: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := validateMenu(mc.Menu()); err != nil {
		return nil, fmt.Errorf("menu: %w", err)
	}
	return &mc, nil
}

// MenuSyncResult is the outcome of syncing one app's configured menu.
type MenuSyncResult struct {
	AppID string
	// Created is true when the menu differed from WeChat's (or there was
	// none) and was created.
	Created bool
	// Err is the failure, if any.
	Err error
	// Skipped is set (on a single result with no AppID) when another
	// instance held the menu-sync lease and synced instead.
	Skipped bool
}

// RemoteMenu returns the default menu that WeChat has for c's app, or nil
// when there is none (46003).
func RemoteMenu(ctx context.Context, c *mp.Client) (*mp.Menu, error) {
	mc, err := c.Menu().Get(ctx)
	if errors.Is(err, wxkit.ErrMenuNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &mc.Menu, nil
}

// MenusEqual reports whether two menus have the same buttons (MenuID and
// conditional menus aside; an absent menu equals an empty one).
func MenusEqual(a, b *mp.Menu) bool {
	return bytes.Equal(canonicalMenu(a), canonicalMenu(b))
}

func canonicalMenu(m *mp.Menu) []byte {
	if m == nil || len(m.Buttons) == 0 {
		return []byte("[]")
	}
	b, _ := json.Marshal(m.Buttons) // omitempty drops empty sub_button lists
	return b
}

// SyncMenus brings the default menu of every app with a `menu:` key in line
// with the configuration: get → compare → create when different. Each
// outcome is logged; a failure is logged as an error and does not stop the
// others. It returns one result per app with a menu.
func (g *Gateway) SyncMenus(ctx context.Context) []MenuSyncResult {
	var out []MenuSyncResult
	for i := range g.cfg.Apps {
		a := &g.cfg.Apps[i]
		if a.Menu == nil {
			continue
		}
		res := MenuSyncResult{AppID: a.AppID}
		res.Created, res.Err = g.syncMenu(ctx, a)
		log := g.logger.With(slog.String("appid", a.AppID))
		switch {
		case res.Err != nil:
			log.LogAttrs(ctx, slog.LevelError, "menu sync: failed; the menu on WeChat is unchanged", slog.String("error", res.Err.Error()))
		case res.Created:
			log.LogAttrs(ctx, slog.LevelInfo, "menu sync: menu created from apps[].menu", slog.Int("buttons", len(a.Menu.Button)))
		default:
			log.LogAttrs(ctx, slog.LevelInfo, "menu sync: menu on WeChat already matches apps[].menu")
		}
		out = append(out, res)
	}
	return out
}

func (g *Gateway) syncMenu(ctx context.Context, a *AppConfig) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := g.MPClient(a.AppID)
	if err != nil {
		return false, err
	}
	want := a.Menu.Menu()
	have, err := RemoteMenu(ctx, c)
	if err != nil {
		return false, fmt.Errorf("reading the menu: %w", err)
	}
	if MenusEqual(want, have) {
		return false, nil
	}
	// menu/create replaces the whole menu: repeating it after -1 is safe.
	if err := c.Menu().Create(ctx, want, mp.RetryUnsafe()); err != nil {
		return false, fmt.Errorf("creating the menu: %w", err)
	}
	return true, nil
}

// MenuSyncLeaseKey is the lock (token.Store.Lock) that elects the one
// instance that syncs menus at start.
const MenuSyncLeaseKey = "wxkit:leader:menu-sync"

// menuSyncLease bounds the lease of the menu-sync leader (a leader that
// dies lets another instance sync at its next start).
const menuSyncLease = 2 * time.Minute

// startMenuSync runs SyncMenus in the background when some app has a menu,
// and returns a function that waits for it to end (it ends early when ctx
// does). Run calls it once it listens: `defer g.startMenuSync(ctx)()`.
func (g *Gateway) startMenuSync(ctx context.Context) (wait func()) {
	w := g.web
	has := false
	for i := range g.cfg.Apps {
		has = has || g.cfg.Apps[i].Menu != nil
	}
	if w == nil || !has {
		if w != nil {
			w.menuOnce.Do(func() { close(w.menuDone) })
		}
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// One instance of a cluster syncs: the others find the lease held
		// and leave it to that one.
		var res []MenuSyncResult
		unlock, err := g.stores.Tokens.Lock(ctx, MenuSyncLeaseKey, menuSyncLease)
		switch {
		case errors.Is(err, token.ErrLocked):
			g.logger.Info("menu sync: another instance is syncing the menus; skipped here")
			res = []MenuSyncResult{{Skipped: true}}
		case err != nil:
			g.logger.Error("menu sync: taking the lease failed; syncing anyway", slog.String("error", err.Error()))
			res = g.SyncMenus(ctx)
		default:
			res = g.SyncMenus(ctx)
			unlock(context.WithoutCancel(ctx))
		}
		w.menuOnce.Do(func() {
			w.menuResults = res
			close(w.menuDone)
		})
	})
	return wg.Wait
}

// MenuSyncDone is closed when the start-up menu sync (started by Run) has
// ended, or at once when no app has a menu; MenuSyncResults then holds its
// outcome.
func (g *Gateway) MenuSyncDone() <-chan struct{} { return g.web.menuDone }

// MenuSyncResults returns the outcome of the start-up menu sync, once
// MenuSyncDone is closed.
func (g *Gateway) MenuSyncResults() []MenuSyncResult {
	select {
	case <-g.web.menuDone:
		return g.web.menuResults
	default:
		return nil
	}
}

// MenuDiff returns a readable line diff from the remote menu (WeChat's) to
// the local one (the file or configuration), one button per line, "-" for
// lines only remote, "+" for lines only local, or "" when they are equal.
func MenuDiff(remote, local *mp.Menu) string {
	if MenusEqual(remote, local) {
		return ""
	}
	a, b := menuLines(remote), menuLines(local)
	var sb strings.Builder
	sb.WriteString("--- WeChat\n+++ local\n")
	// Longest common subsequence over lines (menus have at most 18).
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			sb.WriteString("  " + a[i] + "\n")
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			sb.WriteString("- " + a[i] + "\n")
			i++
		default:
			sb.WriteString("+ " + b[j] + "\n")
			j++
		}
	}
	return sb.String()
}

// menuLines renders a menu one button per line: name, type and the fields
// set, sub buttons indented under their parent.
func menuLines(m *mp.Menu) []string {
	if m == nil || len(m.Buttons) == 0 {
		return []string{"(no menu)"}
	}
	var out []string
	var walk func(bs []mp.Button, indent string)
	walk = func(bs []mp.Button, indent string) {
		for _, b := range bs {
			var sb strings.Builder
			fmt.Fprintf(&sb, "%s%q", indent, b.Name)
			if b.Type != "" {
				sb.WriteString(" " + string(b.Type))
			}
			for _, f := range []struct{ k, v string }{
				{"key", b.Key}, {"url", b.URL}, {"media_id", b.MediaID}, {"appid", b.AppID},
				{"pagepath", b.PagePath}, {"article_id", b.ArticleID},
			} {
				if f.v != "" {
					fmt.Fprintf(&sb, " %s=%s", f.k, f.v)
				}
			}
			out = append(out, sb.String())
			walk(b.SubButtons, indent+"    ")
		}
	}
	walk(m.Buttons, "")
	return out
}
