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
	"strings"
	"syscall"
	"testing"
	"time"

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
// kernel spec into dir/jupyter; it returns the folder to put first on PATH.
func installKernel(t *testing.T, root, dir string) string {
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
		"display_name":   "Go (gonb)",
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
			status, err := eval[string](ctx, `Array.from(document.querySelectorAll(".actadd-explorer-status, .actadd-explorer-note, .output_error, .output_stderr")).map(e => e.innerText).join("\n")`)
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
	columnsJS = `document.querySelector("table.actadd-explorer-columns")`
	plotJS    = `document.querySelector("img.actadd-explorer-plot")`
	sliderJS  = `document.querySelector("input[id^='actadd-explorer-layer-']")`
	statusJS  = `document.querySelector(".actadd-explorer-status").innerText`
	steeredJS = `Array.from(document.querySelectorAll("table.actadd-explorer-columns td.steered")).map(e => e.innerText).join("\n")`
)

// TestExplorerInBrowser runs notebooks/05-explorer.ipynb with the tiny model in the classic
// Notebook UI, moves the layer slider (a burst of values, as a drag fires them, ending on another
// layer), and checks that the completions and the plot change to the final layer's, then
// interrupts the cell and checks that it ends cleanly. It saves a screenshot in its artifact
// folder (go test -artifacts).
func TestExplorerInBrowser(t *testing.T) {
	chromium, notebook := findTools(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	bin := installKernel(t, root, dir)

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
	src, err := os.ReadFile(filepath.Join(root, "notebooks", "05-explorer.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nbDir, "05-explorer.ipynb"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "ACTADD_MODEL=tiny")
	url, token := startServer(t, notebook, dir, nbDir, env)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1300, 2000))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 15*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/notebooks/05-explorer.ipynb?token="+token)); err != nil {
		if strings.Contains(err.Error(), "exec") || strings.Contains(err.Error(), "chrome failed to start") {
			t.Skipf("browser test skipped: chromium cannot run here: %v", err)
		}
		t.Fatal(err)
	}
	waitFor(t, ctx, "the GoNB kernel to connect", `Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()`, 2*time.Minute)
	if _, err := eval[any](ctx, `Jupyter.notebook.execute_all_cells(), true`); err != nil {
		t.Fatal(err)
	}

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

	// Move the slider as a drag does: a burst of values, ending on the target layer.
	move := fmt.Sprintf(`(() => {
	const s = %s;
	for (const v of [%[2]q, %[3]q, %[2]q, %[3]q, %[2]q, %[3]q, %[4]q]) {
		s.value = v;
		s.dispatchEvent(new Event("input"));
	}
	s.dispatchEvent(new Event("change"));
	return s.value;
})()`, sliderJS, "1", layer0, target)
	if v, err := eval[string](ctx, move); err != nil || v != target {
		t.Fatalf("moving the slider: value %q, err %v", v, err)
	}
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

	if _, err := eval[any](ctx, `document.querySelector(".actadd-explorer-status").scrollIntoView({block: "start"}), true`); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.ArtifactDir(), "explorer.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// Stopping the cell ends the explorer cleanly: its status says so, no error is shown, and
	// the kernel goes idle.
	if _, err := eval[any](ctx, `Jupyter.notebook.kernel.interrupt(), true`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the explorer to stop", statusJS+`.startsWith("stopped")`, time.Minute)
	waitFor(t, ctx, "the kernel to go idle", `document.querySelector("#kernel_indicator_icon").classList.contains("kernel_idle_icon")`, time.Minute)
	errs, _ := eval[string](ctx, `Array.from(document.querySelectorAll(".output_error")).map(e => e.innerText).join("\n")`)
	stderr, _ := eval[string](ctx, `Array.from(document.querySelectorAll(".output_stderr")).map(e => e.innerText).join("\n")`)
	if strings.TrimSpace(errs) != "" || strings.Contains(stderr, "panic") || strings.Contains(stderr, "error") {
		t.Errorf("the notebook shows errors after the interrupt:\n%s\n%s", errs, stderr)
	}
}
