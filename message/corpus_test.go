package message

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/internal/corpus"
)

// corpusDir returns the shared corpus directory; it fails the test when
// the corpus is missing.
func corpusDir(t testing.TB) string { return corpus.Dir(t) }

// messageSample is one messages/<name>.xml with its sidecar.
type messageSample struct {
	Name          string
	XML           []byte
	ID            string            `json:"id"`
	MsgType       *string           `json:"msg_type"`
	Event         *string           `json:"event"`
	InfoType      *string           `json:"info_type"`
	Fields        map[string]any    `json:"fields"`
	Expect        map[string]string `json:"expect"`
	ExpectDerived map[string]string `json:"expect_derived"`
	Status        string            `json:"status"`
}

// xmlSample is a corpus sample: <name>.xml with its <name>.json sidecar.
type xmlSample interface {
	setXML(name string, xml []byte)
}

func (s *messageSample) setXML(name string, xml []byte) { s.Name, s.XML = name, xml }
func (s *replySample) setXML(name string, xml []byte)   { s.Name, s.XML = name, xml }

// loadSamples reads every <name>.xml under corpus/sub with its sidecar,
// failing the test when there are none or a sidecar is missing.
func loadSamples[T any, P interface {
	*T
	xmlSample
}](t testing.TB, sub string) []T {
	t.Helper()
	dir := filepath.Join(corpusDir(t), sub)
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no samples in %s", dir)
	}
	out := make([]T, len(files))
	for i, f := range files {
		side, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + ".json")
		if err != nil {
			t.Fatalf("sidecar: %v", err)
		}
		if err := json.Unmarshal(side, &out[i]); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		xml, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		P(&out[i]).setXML(strings.TrimSuffix(filepath.Base(f), ".xml"), xml)
	}
	return out
}

func loadMessages(t testing.TB) []messageSample {
	t.Helper()
	out := loadSamples[messageSample](t, "messages")
	for _, s := range out {
		if s.Fields == nil {
			t.Fatalf("%s: sidecar has no fields", s.Name)
		}
	}
	return out
}

// testName marks derived and unverified samples in the subtest name.
func (s messageSample) testName() string {
	if s.Status == "" {
		return s.Name
	}
	return s.Name + "[" + s.Status + "]"
}

// flatten turns the sidecar's nested fields into path -> text, using the
// Get path syntax: lists become Name[i].
func flatten(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case string:
		out[prefix] = v
	case map[string]any:
		for k, c := range v {
			p := k
			if prefix != "" {
				p = prefix + "/" + k
			}
			flatten(p, c, out)
		}
	case []any:
		for i, c := range v {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), c, out)
		}
	default:
		panic(fmt.Sprintf("unexpected sidecar value %T at %s", v, prefix))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// replySample is one replies/<name>.xml with its sidecar.
type replySample struct {
	Name   string
	XML    []byte
	Inputs struct {
		ToUserName   string            `json:"ToUserName"`
		FromUserName string            `json:"FromUserName"`
		CreateTime   int64             `json:"CreateTime"`
		MsgType      MsgType           `json:"MsgType"`
		Content      string            `json:"Content"`
		MediaID      string            `json:"MediaId"`
		Title        string            `json:"Title"`
		Description  string            `json:"Description"`
		MusicURL     string            `json:"MusicUrl"`
		HQMusicURL   string            `json:"HQMusicUrl"`
		ThumbMediaID string            `json:"ThumbMediaId"`
		KfAccount    string            `json:"KfAccount"`
		Articles     []json.RawMessage `json:"Articles"`
	} `json:"inputs"`
	Fields map[string]string `json:"fields"`
	Status string            `json:"status"`
}

func loadReplies(t testing.TB) []replySample {
	t.Helper()
	return loadSamples[replySample](t, "replies")
}

// reply builds the Reply the sample's inputs describe.
func (s replySample) reply(t testing.TB) Reply {
	t.Helper()
	in := s.Inputs
	switch in.MsgType {
	case MsgTypeText:
		return &Text{Content: in.Content}
	case MsgTypeImage:
		return &Image{MediaID: in.MediaID}
	case MsgTypeVoice:
		return &Voice{MediaID: in.MediaID}
	case MsgTypeVideo:
		return &Video{MediaID: in.MediaID, Title: in.Title, Description: in.Description}
	case MsgTypeMusic:
		return &Music{Title: in.Title, Description: in.Description, MusicURL: in.MusicURL, HQMusicURL: in.HQMusicURL, ThumbMediaID: in.ThumbMediaID}
	case MsgTypeNews:
		n := &News{}
		for _, raw := range in.Articles {
			var a struct {
				Title, Description, PicUrl, Url string
			}
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			n.Articles = append(n.Articles, Article{Title: a.Title, Description: a.Description, PicURL: a.PicUrl, URL: a.Url})
		}
		return n
	case MsgTypeTransferCustomerService:
		return &TransferCustomerService{KfAccount: in.KfAccount}
	}
	t.Fatalf("%s: unknown reply MsgType %q", s.Name, in.MsgType)
	return nil
}
