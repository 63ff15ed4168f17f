package gateway

import (
	"bytes"
	"go/token"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

// secretSlot marks, in the seeds of FuzzParseConfig, where a secret value
// goes; the target puts a distinctive value there.
const secretSlot = "SECRETSLOT"

// secretKeys are the configuration keys whose values are secrets.
var secretKeys = map[string]bool{"secret": true, "token": true, "encoding_aes_key": true}

// FuzzParseConfig feeds any file to ParseConfig (without WXKIT_*
// variables in the environment). It must never panic; a configuration it
// accepts is normalized for good (Normalize again changes nothing and
// succeeds); and no error ever quotes the value of a secret key (secret,
// token, encoding_aes_key), which the seeds mark with secretSlot.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(validConfig), "s3cretValue")
	f.Add([]byte(strings.ReplaceAll(strings.ReplaceAll(validConfig, "appsecret", secretSlot), "benchtoken", secretSlot)), "t0kenValue")
	f.Add([]byte(strings.Replace(validConfig, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", secretSlot, 1)), "shortAESkey")
	f.Add([]byte("token_service: { secret: "+secretSlot+" }\noauth: { secret: "+secretSlot+" }\n"), "0123456789abcdef0123")
	f.Add([]byte("apps:\n  - { appid: wx0123456789abcdef, secret: "+secretSlot+", token: "+secretSlot+", mode: safe, encoding_aes_key: "+secretSlot+" }\n"), "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
	f.Add([]byte(""), "")
	f.Add([]byte("listen: [\n"), "")
	f.Fuzz(func(t *testing.T, doc []byte, secret string) {
		value := ""
		if bytes.Contains(doc, []byte(secretSlot)) {
			value = "Q7z" + keepAlnum(secret)
			doc = bytes.ReplaceAll(doc, []byte(secretSlot), []byte(value))
		}
		cfg, err := ParseConfig(doc)
		if err != nil {
			if cfg != nil {
				t.Fatalf("ParseConfig returned a config with error %v", err)
			}
			if value != "" && strings.Contains(err.Error(), value) && onlyInSecretSlots(doc, value) {
				t.Fatalf("error %q quotes the secret %q\n%s", err, value, doc)
			}
			return
		}
		again, err := ParseConfig(doc) // a deep copy to normalize again
		if err != nil {
			t.Fatalf("ParseConfig accepts the document once only: %v", err)
		}
		if err := again.Normalize(); err != nil {
			t.Fatalf("Normalize of an accepted config = %v\n%s", err, doc)
		}
		if d := cmp.Diff(cfg, again, ignoreUnexported, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Normalize is not idempotent (-first +second):\n%s\n%s", d, doc)
		}
	})
}

// ignoreUnexported ignores every unexported struct field (values derived
// by Normalize, such as compiled patterns and parsed networks).
var ignoreUnexported = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	return ok && !token.IsExported(sf.Name())
}, cmp.Ignore())

// keepAlnum returns the ASCII letters and digits of s, at most 40.
func keepAlnum(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 40; i++ {
		if c := s[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// onlyInSecretSlots reports whether every occurrence of value in doc is
// the plain scalar value of a secret key (so an error quoting value quotes
// a secret, not some other field the fuzzer copied it into). Documents
// with anchors, aliases or tags are not judged.
func onlyInSecretSlots(doc []byte, value string) bool {
	if bytes.ContainsAny(doc, "&*!") {
		return false
	}
	var root yaml.Node
	if yaml.Unmarshal(doc, &root) != nil {
		return false
	}
	n := 0
	var walk func(nd *yaml.Node)
	walk = func(nd *yaml.Node) {
		if nd.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(nd.Content); i += 2 {
				k, v := nd.Content[i], nd.Content[i+1]
				if secretKeys[k.Value] && v.Kind == yaml.ScalarNode && v.Value == value {
					n++
				}
			}
		}
		for _, c := range nd.Content {
			walk(c)
		}
	}
	walk(&root)
	return n > 0 && n == bytes.Count(doc, []byte(value))
}
