package gateway

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"

	"github.com/wxkit/wxkit/internal/corpus"
)

// FuzzParseMenuFile feeds any file to ParseMenuFile (YAML, or the JSON of
// cgi-bin/menu/create). It must never panic, and a menu it accepts must
// survive the ways the gateway writes menus back:
//   - rendered as YAML (`wxkit menu get` output) it parses to the same menu;
//   - rendered as the menu/create JSON it parses to an equal menu;
//   - MenuConfigOf(m.Menu()) gives m back.
func FuzzParseMenuFile(f *testing.F) {
	f.Add(corpus.ReadFile(f, "api", "cgi-bin_menu_create.request.json"))
	f.Add(corpus.ReadFile(f, "api", "cgi-bin_menu_create_miniprogram.request.json"))
	f.Add([]byte("button:\n  - { type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC }\n  - name: 菜单\n    sub_button:\n      - { type: view, name: 搜索, url: \"https://www.soso.com/\" }\n"))
	f.Add([]byte("button: []\n"))
	f.Add([]byte("button:\n  - { type: view, name: \"a\\xffb\", url: \"https://x/\" }\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		mc, err := ParseMenuFile(b)
		if err != nil {
			if mc != nil {
				t.Fatalf("ParseMenuFile returned a menu with error %v", err)
			}
			return
		}
		equate := cmpopts.EquateEmpty()

		y, err := yaml.Marshal(mc)
		if err != nil {
			t.Fatalf("yaml.Marshal(%+v) = %v", mc, err)
		}
		again, err := ParseMenuFile(y)
		if err != nil {
			t.Fatalf("ParseMenuFile(yaml.Marshal(m)) = %v\n%s", err, y)
		}
		if d := cmp.Diff(mc, again, equate); d != "" {
			t.Fatalf("YAML round trip (-parsed +again):\n%s\n%s", d, y)
		}

		if d := cmp.Diff(mc, MenuConfigOf(mc.Menu()), equate); d != "" {
			t.Fatalf("MenuConfigOf(m.Menu()) (-m +back):\n%s", d)
		}

		if !validUTF8(mc.Button) {
			return // JSON cannot carry these names (it would send U+FFFD)
		}
		j, err := json.Marshal(mc.Menu())
		if err != nil {
			t.Fatalf("json.Marshal = %v", err)
		}
		fromJSON, err := ParseMenuFile(j)
		if err != nil {
			t.Fatalf("ParseMenuFile(menu/create JSON) = %v\n%s", err, j)
		}
		if !MenusEqual(mc.Menu(), fromJSON.Menu()) {
			t.Fatalf("JSON round trip changed the menu:\n%+v\n%+v\n%s", mc.Menu(), fromJSON.Menu(), j)
		}
	})
}

// validUTF8 reports whether every text of bs is UTF-8.
func validUTF8(bs []MenuButton) bool {
	for _, b := range bs {
		for _, s := range []string{b.Type, b.Name, b.Key, b.URL, b.MediaID, b.AppID, b.PagePath, b.ArticleID} {
			if !utf8.ValidString(s) {
				return false
			}
		}
		if !validUTF8(b.SubButton) {
			return false
		}
	}
	return true
}
