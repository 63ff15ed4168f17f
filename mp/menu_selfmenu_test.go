package mp

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/internal/corpus"
)

// selfMenuOf is what get_current_selfmenu_info reports for a menu set
// through the API: the same buttons, sub buttons wrapped in {"list"}, a
// parent without a type, media_id and article_id in value.
func selfMenuOf(b Button) SelfMenuButton {
	s := SelfMenuButton{Type: b.Type, Name: b.Name, Key: b.Key, URL: b.URL, AppID: b.AppID, PagePath: b.PagePath}
	switch b.Type {
	case ButtonTypeMediaID, ButtonTypeViewLimited:
		s.Value = b.MediaID
	case ButtonTypeArticleID, ButtonTypeArticleViewLimited:
		s.Value = b.ArticleID
	}
	if len(b.SubButtons) > 0 {
		s.Type = ""
		s.SubButtons = &SelfMenuButtonList{}
		for _, sb := range b.SubButtons {
			s.SubButtons.List = append(s.SubButtons.List, selfMenuOf(sb))
		}
	}
	return s
}

// TestSelfMenuInfoCorpus: every menu of the corpus created through the API
// is reported by get_current_selfmenu_info with is_menu_open 1 and the
// same buttons; deleting it leaves is_menu_open 0.
func TestSelfMenuInfoCorpus(t *testing.T) {
	t.Parallel()
	files := corpus.Glob(t, "api/cgi-bin_menu_create*.request.json")
	if len(files) == 0 {
		t.Fatal("no corpus menu")
	}
	for _, p := range files {
		name := filepath.Base(p)
		t.Run(strings.TrimSuffix(name, ".request.json"), func(t *testing.T) {
			t.Parallel()
			env := newEmu(t)
			ctx := t.Context()
			m := corpusMenu(t, name)
			if err := env.c.Menu().Create(ctx, m); err != nil {
				t.Fatalf("Menu.Create(%s) = %v", name, err)
			}
			info, err := env.c.Menu().GetCurrentSelfMenuInfo(ctx)
			if err != nil {
				t.Fatalf("Menu.GetCurrentSelfMenuInfo = %v", err)
			}
			want := &SelfMenuInfo{IsMenuOpen: 1}
			for _, b := range m.Buttons {
				want.Menu.Buttons = append(want.Menu.Buttons, selfMenuOf(b))
			}
			if diff := cmp.Diff(want, info); diff != "" {
				t.Errorf("Menu.GetCurrentSelfMenuInfo mismatch (-want +got):\n%s", diff)
			}
			if err := env.c.Menu().Delete(ctx); err != nil {
				t.Fatal(err)
			}
			if info, err := env.c.Menu().GetCurrentSelfMenuInfo(ctx); err != nil || info.IsMenuOpen != 0 || len(info.Menu.Buttons) != 0 {
				t.Errorf("Menu.GetCurrentSelfMenuInfo(after delete) = %+v, %v; want is_menu_open 0", info, err)
			}
		})
	}
}
