// Package browsertest drives notebooks/05-explorer.ipynb in a real browser: Debian's classic
// Jupyter Notebook server with the GoNB kernel on loopback, and headless chromium driven through
// the DevTools protocol (github.com/chromedp/chromedp).
package browsertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/loader"
	"github.com/chromedp/chromedp"
)

// findTools returns chromium and jupyter-notebook, or skips the test: only where no browser
// can run.
func findTools(t *testing.T) (chromium, notebook string) {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	notebook, _ = exec.LookPath("jupyter-notebook")
	if chromium == "" || notebook == "" {
		t.Skip("browser test skipped: it needs chromium and jupyter-notebook (Debian packages chromium and jupyter-notebook; make test installs them)")
	}
	return chromium, notebook
}

// repoRoot is the repository's root folder (this package is notebooks/browsertest).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// installKernel builds gonb and goimports (the module's tools) into dir/bin and writes a GoNB
// kernel spec into dir/jupyter, with the display name the notebooks carry (that make jupyter
// installs); it returns the folder to put first on PATH.
func installKernel(t *testing.T, root, dir, displayName string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	for _, pkg := range []string{"github.com/janpfeifer/gonb", "golang.org/x/tools/cmd/goimports"} {
		cmd := exec.Command("go", "build", "-o", bin+"/", pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, out)
		}
	}
	spec := map[string]any{
		"argv":           []string{filepath.Join(bin, "gonb"), "--kernel", "{connection_file}", "--raw_error"},
		"display_name":   displayName,
		"language":       "go",
		"interrupt_mode": "message",
	}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	kdir := filepath.Join(dir, "jupyter", "kernels", "gonb")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kdir, "kernel.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return bin
}

// startServer starts the classic notebook server on a free loopback port, serving nbDir, and
// returns its URL and token; the server is stopped when the test ends.
func startServer(t *testing.T, notebook, dir, nbDir string, env []string) (url, token string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	b := make([]byte, 16)
	rand.Read(b)
	token = hex.EncodeToString(b)
	cmd := exec.Command(notebook, "--no-browser", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port), "--port-retries=0",
		"--NotebookApp.token="+token, "--notebook-dir="+nbDir)
	if os.Geteuid() == 0 {
		cmd.Args = append(cmd.Args, "--allow-root") // containers and CI run as root
	}
	cmd.Env = append(env, "JUPYTER_DATA_DIR="+filepath.Join(dir, "jupyter"), "JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(dir, "config"), "JUPYTER_PATH="+filepath.Join(dir, "jupyter"))
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := exited
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
		if t.Failed() {
			if data, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("notebook server log (last 4000 bytes):\n%s", tail(data, 4000))
			}
		}
	})
	url = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(url + "/api/status?token=" + token)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, token
			}
		}
		select {
		case <-exited:
			t.Fatalf("the notebook server exited: %v", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notebook server did not answer on %s within 90 s", url)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](ctx context.Context, expr string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// waitFor polls the JavaScript condition cond until it is true, or fails the test after
// timeout saying what it waited for.
func waitFor(t *testing.T, ctx context.Context, what, cond string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, err := eval[bool](ctx, "(() => { try { return Boolean("+cond+"); } catch (e) { return false; } })()")
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			status, err := eval[string](ctx, `Array.from(document.querySelectorAll(".actadd-explorer-status, .actadd-explorer-note, .output_error, .output_stderr")).map(e => e.innerText).join("\n") +
				"\n---- the last cells' outputs:\n" + Jupyter.notebook.get_cells().slice(-3).map(c => c.output_area ? c.output_area.element[0].innerText.slice(0, 2000) : "").join("\n----\n")`)
			if shot, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
				path := filepath.Join(t.ArtifactDir(), "failure.png")
				os.WriteFile(path, shot, 0o644)
				t.Logf("screenshot of the failure: %s", path)
			}
			t.Fatalf("waited %v for %s; the page shows (%v):\n%s", timeout, what, err, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// JavaScript that reads the explorer's state.
const (
	rootJS    = `document.querySelector("div.actadd-explorer")`
	columnsJS = `document.querySelector("table.actadd-explorer-columns")`
	boxJS     = `document.querySelector(".actadd-explorer-columns-box")`
	plotJS    = `document.querySelector("img.actadd-explorer-plot")`
	panelJS   = `document.querySelector(".actadd-explorer-controls")`
	sliderJS  = `document.querySelector("input[id^='actadd-explorer-layer-']")`
	statusJS  = `document.querySelector(".actadd-explorer-status").innerText`
	steeredJS = `Array.from(document.querySelectorAll("table.actadd-explorer-columns td.steered")).map(e => e.innerText).join("\n")`
	idleJS    = `document.querySelector("#kernel_indicator_icon").classList.contains("kernel_idle_icon")`
)

// slider is the JavaScript of the explorer's slider called name ("layer", "completions", ...).
func slider(name string) string {
	return fmt.Sprintf(`document.querySelector("input[id^='actadd-explorer-%s-']")`, name)
}

// setSlider moves a slider as a drag does: a burst of values, ending on value.
func setSlider(t *testing.T, ctx context.Context, name string, burst ...string) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
	const s = %s;
	for (const v of %s) {
		s.value = v;
		s.dispatchEvent(new Event("input"));
	}
	s.dispatchEvent(new Event("change"));
	return s.value;
})()`, slider(name), jsArray(burst))
	if v, err := eval[string](ctx, js); err != nil || v != burst[len(burst)-1] {
		t.Fatalf("moving the %s slider: value %q, err %v", name, v, err)
	}
}

func jsArray[T any](vs []T) string {
	b, _ := json.Marshal(vs)
	return string(b)
}

// screenshot saves what the browser window shows (its viewport) in the test's artifacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// gjsonString is the string at the path of keys in the JSON object data.
func gjsonString(t *testing.T, data []byte, keys ...string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// sweepCell runs an E2 sweep on the tiny stand-in that lasts minutes, as a notebook's run cell
// does (nbutil.Config, nbutil.Check).
const sweepCell = `%%
defer nbutil.Sync()
fs := flag.NewFlagSet("e2", flag.ContinueOnError)
e2 := experiments.WeddingFlags(fs)
nbutil.Check(fs.Parse([]string{"--scale=quick", "--layers=0,1,2,3", "--completions=400", "--tokens=24"}))
cfg, err := nbutil.Config(e2)
nbutil.Check(err)
m, err := nbutil.LoadModel("tiny")
nbutil.Check(err)
_, err = experiments.WeddingSweep(m, cfg)
nbutil.Check(err)
fmt.Println("the sweep finished before the interrupt")`

// notebookWithProgressCells is the notebook's JSON with three code cells appended: an import,
// a long sweep (sweepCell), and a cell whose meter shows a progress bar (nbutil's display of
// package progress).
func notebookWithProgressCells(t *testing.T, src []byte) (data []byte, displayName string) {
	t.Helper()
	var nb map[string]any
	if err := json.Unmarshal(src, &nb); err != nil {
		t.Fatal(err)
	}
	meta, _ := nb["metadata"].(map[string]any)
	ks, _ := meta["kernelspec"].(map[string]any)
	displayName, _ = ks["display_name"].(string)
	if displayName == "" {
		t.Fatal("the notebook has no kernelspec display name")
	}
	code := func(src string) map[string]any {
		return map[string]any{"cell_type": "code", "execution_count": nil, "metadata": map[string]any{}, "outputs": []any{}, "source": src}
	}
	nb["cells"] = append(nb["cells"].([]any),
		code("import (\n\t\"flag\"\n\t\"fmt\"\n\t\"os\"\n\t\"time\"\n\n\t\"github.com/actadd-go/actadd/progress\"\n)"),
		code(sweepCell),
		code("%%\ndefer nbutil.Sync()\nmeter := progress.New(os.Stdout, \"browser test meter\", \"steps\", 8)\nfor range 8 {\n\ttime.Sleep(150 * time.Millisecond)\n\tmeter.Add(1)\n}"))
	data, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	return data, displayName
}

// TestExplorerInBrowser runs notebooks/05-explorer.ipynb with the tiny model in the classic
// Notebook UI, in a window 1,000 px high. It checks that the notebook opens without "(unsaved
// changes)" and that its setup cell says what it compiles; moves the layer slider (a burst of
// values, as a drag fires them) and checks that the completions and the plot change to the
// final layer's; sets 16 completions of 200 tokens and checks that the columns' height is
// bounded and a slider and the plot are on screen together (screenshots); runs the explorer's
// cell again while it is live and checks that the new run takes over, from the last settings;
// interrupts it and checks that it ends cleanly with its controls shown as stopped; then runs a
// cell with a progress bar twice and checks that the bar appears both times; then interrupts a
// sweep and checks that its cell says where it stopped. Nothing shows as stderr or as an
// error. Screenshots go to its artifact folder (go test -artifacts).
func TestExplorerInBrowser(t *testing.T) {
	chromium, notebook := findTools(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(root, "notebooks", "05-explorer.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	nbData, displayName := notebookWithProgressCells(t, src)
	// The tiny stand-in is generated once per machine, with a line on stderr from the loader
	// (hfhub's default options); make sure it exists, so that the notebook's output is that
	// of every later run.
	if _, err := loader.Locate(checkpoint.TinyName, hfhub.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	bin := installKernel(t, root, dir, displayName)

	// The notebook runs from a copy inside the repository (so its setup cell finds the module)
	// in an ignored folder, so that the server never writes to the committed notebook.
	parent := filepath.Join(root, "notebooks", ".executed")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	nbDir, err := os.MkdirTemp(parent, "browsertest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(nbDir) })
	if err := os.WriteFile(filepath.Join(nbDir, "05-explorer.ipynb"), nbData, 0o644); err != nil {
		t.Fatal(err)
	}
	// The explorer keeps its settings in a fresh folder.
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "ACTADD_MODEL=tiny",
		"ACTADD_EXPLORER_STATE="+filepath.Join(dir, "explorer-state"))
	url, token := startServer(t, notebook, dir, nbDir, env)

	const width, height = 1300, 1000
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(width, height))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 20*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/notebooks/05-explorer.ipynb?token="+token)); err != nil {
		if strings.Contains(err.Error(), "exec") || strings.Contains(err.Error(), "chrome failed to start") {
			t.Skipf("browser test skipped: chromium cannot run here: %v", err)
		}
		t.Fatal(err)
	}
	waitFor(t, ctx, "the GoNB kernel to connect and report its language", `Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() && Jupyter.notebook.kernel.info_reply && Jupyter.notebook.kernel.info_reply.language_info`, 2*time.Minute)
	time.Sleep(500 * time.Millisecond) // the kernel_ready handlers run
	// The kernel reports the Go version gonb was built with: the notebooks are committed for
	// go.mod's toolchain with GOEXPERIMENT=simd (nbcheck), which builds gonb here unless a newer
	// Go came first.
	if committed := gjsonString(t, nbData, "metadata", "language_info", "version"); committed != runtime.Version() {
		t.Logf("the notebooks are committed for %s, this toolchain is %s: Jupyter marks them changed when it starts the kernel; not checked", committed, runtime.Version())
	} else if dirty, err := eval[bool](ctx, `Jupyter.notebook.dirty`); err != nil || dirty {
		meta, _ := eval[string](ctx, `JSON.stringify(Jupyter.notebook.metadata)`)
		t.Errorf("the notebook opens as \"(unsaved changes)\" (dirty %v, err %v): its metadata became %s", dirty, err, meta)
	}

	// Run the cells up to the explorer's (the progress cells after it run later).
	explorerCell, err := eval[int](ctx, `Jupyter.notebook.get_cells().findIndex(c => c.cell_type === "code" && c.get_text().includes("explorer.Run("))`)
	if err != nil || explorerCell < 0 {
		t.Fatalf("no explorer cell (%d, %v)", explorerCell, err)
	}
	if _, err := eval[any](ctx, fmt.Sprintf(`Jupyter.notebook.execute_cell_range(0, %d), true`, explorerCell+1)); err != nil {
		t.Fatal(err)
	}
	// The setup cell says what it compiles before it starts.
	waitFor(t, ctx, "the setup cell to say that it compiles the library", `Array.from(document.querySelectorAll(".output_subarea")).some(e => e.innerText.includes("a few minutes the first time"))`, 2*time.Minute)

	// The first build of the explorer cell compiles the library: minutes on a cold cache.
	waitFor(t, ctx, "the explorer's controls", sliderJS, 10*time.Minute)
	waitFor(t, ctx, "the first columns and plot", columnsJS+`.dataset.done === "true" && `+plotJS+`.dataset.done === "true" && `+statusJS+`.startsWith("done")`, 3*time.Minute)
	layer0, err := eval[string](ctx, plotJS+".dataset.layer")
	if err != nil {
		t.Fatal(err)
	}
	steered0, _ := eval[string](ctx, steeredJS)
	plot0, _ := eval[string](ctx, plotJS+".src")
	max, _ := eval[string](ctx, sliderJS+".max")
	target := "0"
	if layer0 == "0" {
		target = max
	}
	t.Logf("explorer up at layer %s (slider 0..%s): %d characters of steered text", layer0, max, len(steered0))

	setSlider(t, ctx, "layer", "1", layer0, "1", layer0, "1", layer0, target)
	moved := time.Now()
	hook := fmt.Sprintf("blocks.%s.hook_resid_pre", target)
	waitFor(t, ctx, "the first words at the new layer", columnsJS+`.innerText.includes(`+fmt.Sprintf("%q", hook)+`) && Number(`+columnsJS+`.dataset.step) >= 1`, 2*time.Minute)
	firstWords := time.Since(moved)
	waitFor(t, ctx, "the columns and plot of the new layer", columnsJS+`.dataset.done === "true" && `+plotJS+`.dataset.done === "true" && `+plotJS+`.dataset.layer === `+fmt.Sprintf("%q", target)+` && `+statusJS+`.startsWith("done")`, 3*time.Minute)
	t.Logf("slider moved to layer %s: first new words after %v, done after %v", target, firstWords.Round(time.Millisecond), time.Since(moved).Round(time.Millisecond))
	steered1, _ := eval[string](ctx, steeredJS)
	plot1, _ := eval[string](ctx, plotJS+".src")
	status, _ := eval[string](ctx, statusJS)
	if !strings.Contains(status, "at layer "+target) {
		t.Errorf("status %q does not name layer %s", status, target)
	}
	if steered1 == steered0 {
		t.Errorf("the steered completions did not change when the layer moved from %s to %s", layer0, target)
	}
	if plot1 == plot0 {
		t.Error("the plot did not change when the layer moved")
	}
	if _, err := eval[any](ctx, rootJS+`.scrollIntoView({block: "start"}), true`); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "explorer.png")

	// The largest columns: 16 completions of 200 tokens. Their box scrolls; a slider and the
	// plot stay on screen together.
	setSlider(t, ctx, "completions", "8", "16")
	time.Sleep(300 * time.Millisecond)
	setSlider(t, ctx, "tokens", "100", "200")
	waitFor(t, ctx, "16 completions of 100 tokens or more", `document.querySelectorAll("table.actadd-explorer-columns td.steered").length === 16 && Number(`+columnsJS+`.dataset.step) >= 100`, 5*time.Minute)
	if _, err := eval[any](ctx, `document.querySelector(".actadd-explorer-note").scrollIntoView({block: "start"}), true`); err != nil {
		t.Fatal(err)
	}
	geometry, err := eval[map[string]float64](ctx, `(() => {
	const r = e => e.getBoundingClientRect();
	return {viewport: innerHeight, box: r(`+boxJS+`).height, table: `+columnsJS+`.scrollHeight,
		sliderTop: r(`+sliderJS+`).top, sliderBottom: r(`+sliderJS+`).bottom, plotTop: r(`+plotJS+`).top, plotBottom: r(`+plotJS+`).bottom,
		plotLeft: r(`+plotJS+`).left, boxRight: r(`+boxJS+`).right};
})()`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("at %d × %d px: columns box %.0f px high (table %.0f px), layer slider at %.0f–%.0f px, plot at %.0f–%.0f px",
		width, height, geometry["box"], geometry["table"], geometry["sliderTop"], geometry["sliderBottom"], geometry["plotTop"], geometry["plotBottom"])
	if geometry["box"] > 0.6*geometry["viewport"] {
		t.Errorf("the columns take %.0f px of a %.0f px window", geometry["box"], geometry["viewport"])
	}
	for _, k := range []string{"sliderTop", "plotTop"} {
		if geometry[k] < 0 {
			t.Errorf("%s is above the window (%.0f px)", k, geometry[k])
		}
	}
	for _, k := range []string{"sliderBottom", "plotBottom"} {
		if geometry[k] > geometry["viewport"] {
			t.Errorf("%s is below the %.0f px window (%.0f px): the layer slider and the plot are not on screen together", k, geometry["viewport"], geometry[k])
		}
	}
	if geometry["plotLeft"] < geometry["boxRight"] {
		t.Errorf("the plot (left edge %.0f px) is not beside the columns (right edge %.0f px)", geometry["plotLeft"], geometry["boxRight"])
	}
	screenshot(t, ctx, "explorer-16x200.png")

	// Running the cell again while the explorer is live: the new run takes over, from the last
	// settings; the old one ends.
	oldRoot, _ := eval[string](ctx, rootJS+".id")
	if _, err := eval[any](ctx, fmt.Sprintf(`Jupyter.notebook.get_cell(%d).execute(), true`, explorerCell)); err != nil {
		t.Fatal(err)
	}
	rerun := time.Now()
	waitFor(t, ctx, "the explorer run again to show its controls", fmt.Sprintf(`document.querySelectorAll("div.actadd-explorer").length === 1 && %s.id !== %q && %s`, rootJS, oldRoot, sliderJS), 5*time.Minute)
	waitFor(t, ctx, "the explorer run again to generate", `Number(`+columnsJS+`.dataset.step) >= 1`, 3*time.Minute)
	t.Logf("the explorer run again while live took over after %v", time.Since(rerun).Round(time.Millisecond))
	for name, want := range map[string]string{"layer": target, "completions": "16", "tokens": "200"} {
		if got, _ := eval[string](ctx, slider(name)+".value"); got != want {
			t.Errorf("run again, the %s slider is at %s, want the last value %s", name, got, want)
		}
	}

	// Stopping the cell ends the explorer cleanly: its status says so, its controls are shown
	// as stopped, no error is shown, and the kernel goes idle.
	if _, err := eval[any](ctx, `Jupyter.notebook.kernel.interrupt(), true`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the explorer to stop", statusJS+`.startsWith("stopped")`, time.Minute)
	waitFor(t, ctx, "the kernel to go idle", idleJS, time.Minute)
	waitFor(t, ctx, "the controls to show as stopped", `document.querySelector(".actadd-explorer-stopped") && Array.from(`+panelJS+`.querySelectorAll("input, select, button")).every(e => e.disabled)`, 30*time.Second)
	if _, err := eval[any](ctx, rootJS+`.scrollIntoView({block: "start"}), true`); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "explorer-stopped.png")

	// A cell with a progress bar shows it every time it runs.
	progressCell, err := eval[int](ctx, `Jupyter.notebook.ncells() - 1`)
	if err != nil {
		t.Fatal(err)
	}
	sweepCell, importCell := progressCell-1, progressCell-2
	output := func(cell int) string {
		return fmt.Sprintf(`Jupyter.notebook.get_cell(%d).output_area.element[0]`, cell)
	}
	for run := 1; run <= 2; run++ {
		cells := []int{progressCell}
		if run == 1 {
			cells = []int{importCell, progressCell}
		}
		count := fmt.Sprintf(`Jupyter.notebook.get_cell(%d).input_prompt_number`, progressCell)
		before, _ := eval[any](ctx, count)
		if _, err := eval[any](ctx, fmt.Sprintf(`Jupyter.notebook.execute_cells(%s), true`, jsArray(cells))); err != nil {
			t.Fatal(err)
		}
		bar := output(progressCell) + `.querySelector(".actadd-progress progress")`
		beforeJS, _ := json.Marshal(before)
		waitFor(t, ctx, fmt.Sprintf("run %d of the progress cell to end", run), fmt.Sprintf(`typeof %s === "number" && %s !== %s && %s`, count, count, beforeJS, idleJS), 5*time.Minute)
		waitFor(t, ctx, fmt.Sprintf("run %d of the progress cell to show its bar, full", run), bar+` && `+bar+`.value === 8`, 30*time.Second)
	}

	// Interrupting a sweep says where it stopped and that a rerun resumes, without an error.
	if _, err := eval[any](ctx, fmt.Sprintf(`Jupyter.notebook.execute_cells([%d]), true`, sweepCell)); err != nil {
		t.Fatal(err)
	}
	sweepBar := output(sweepCell) + `.querySelector(".actadd-progress progress")`
	waitFor(t, ctx, "the sweep to make progress", sweepBar+` && `+sweepBar+`.value > 0`, 5*time.Minute)
	if _, err := eval[any](ctx, `Jupyter.notebook.kernel.interrupt(), true`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the interrupted sweep to end", fmt.Sprintf(`typeof Jupyter.notebook.get_cell(%d).input_prompt_number === "number" && %s`, sweepCell, idleJS), time.Minute)
	sweepOut, _ := eval[string](ctx, output(sweepCell)+`.innerText`)
	if i := strings.Index(sweepOut, "interrupted at "); i >= 0 {
		t.Logf("the interrupted sweep says: %s", strings.SplitN(sweepOut[i:], "\n", 2)[0])
	}
	if !strings.Contains(sweepOut, "interrupted at ") || !strings.Contains(sweepOut, "run the cell again to resume") || strings.Contains(sweepOut, "signal: interrupt") {
		t.Errorf("the interrupted sweep's cell does not say where it stopped and that a rerun resumes:\n%s", sweepOut)
	}

	errs, _ := eval[string](ctx, `Array.from(document.querySelectorAll(".output_error")).map(e => e.innerText).join("\n")`)
	stderr, _ := eval[string](ctx, `Array.from(document.querySelectorAll(".output_stderr")).map(e => e.innerText).join("\n")`)
	if strings.TrimSpace(errs) != "" {
		t.Errorf("the notebook shows errors:\n%s", errs)
	}
	if strings.TrimSpace(stderr) != "" {
		t.Errorf("the notebook shows lines on stderr (pink, like errors):\n%s", stderr)
	}
}
