package explorer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/dom"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"github.com/janpfeifer/gonb/gonbui/widgets"
)

// Timing of the live explorer.
const (
	// Quiet is how long the controls must be still before their values are read: a slider
	// dragged fires many values, which GoNB may deliver out of order.
	Quiet = 40 * time.Millisecond
	// connectTimeout bounds the wait for the page to answer the first widget: a page that
	// cannot reach the kernel (see ConnectNote) never answers.
	connectTimeout = 20 * time.Second
	// readTimeout bounds the wait for the page's answer to a read of the controls.
	readTimeout = 2 * time.Second
)

// coeffSteps is the number of coefficient slider positions per unit: GoNB's sliders are
// integer, so position p means coefficient p/coeffSteps.
const coeffSteps = 2

// MaxCoeff is the largest coefficient (in absolute value) the slider reaches.
const MaxCoeff = 20

// ConnectNote is shown when the page does not answer: GoNB's page script connects to
// ws://<host>/api/kernels/<id>/channels, ignoring the server's base URL and https.
const ConnectNote = "the page did not connect to the GoNB kernel, so the controls cannot reach this cell. " +
	"GoNB's page script connects to ws://<host>/api/kernels/…: a Jupyter server with a base URL " +
	"(--NotebookApp.base_url) or served over https cannot connect. The explorer ran once with the flags' settings."

// Live reports whether a person's browser session is attached to the running cell:
// GONB_JUPYTER_KERNEL_ID is set by a kernel started from a notebook server, and empty under
// `jupyter nbconvert --execute` (make notebooks, CI).
func Live() bool {
	return gonbui.IsNotebook && os.Getenv(protocol.GONB_JUPYTER_KERNEL_ID_ENV) != ""
}

// Run shows the explorer for m in the running notebook cell, starting from initial, and
// steers it from the controls until the cell is interrupted (Jupyter's stop button sends
// SIGINT): then it cancels the generation in progress, shows the controls as stopped and
// returns nil. Running the cell again while the explorer is live clears its output: the page
// tells this run, which stops (returning nil) so that the new run takes over.
//
// A live explorer keeps the last settings of its controls (State, in the user's cache folder,
// per notebook folder and model) and starts from them when the cell runs again, except for
// the settings whose flags changed in the cell since (State.Resume).
//
// Run headless (no browser attached, see Live), or outside a notebook (then as text on
// stdout), it renders once with initial and returns.
func Run(m *actadd.Model, initial Settings) error {
	if err := initial.Check(m.Layers()); err != nil {
		return fmt.Errorf("explorer: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !gonbui.IsNotebook {
		return Once(ctx, m, TextView(os.Stdout, m.Label()), initial)
	}
	defer gonbui.Sync()
	v := newCellView(m)
	if !Live() {
		v.Note("Run headless (no browser attached): the explorer rendered once with the flags' settings. Open the notebook in Jupyter to steer it live.")
		return Once(ctx, m, v, initial)
	}
	return runLive(ctx, m, v, initial)
}

// notebookDir is the folder of the running notebook: the kernel's ($GONB_DIR), else the
// working directory.
func notebookDir() string {
	if d := os.Getenv("GONB_DIR"); d != "" {
		return d
	}
	d, _ := os.Getwd()
	return d
}

// resume returns the settings a live run starts from (State.Resume of the kept state, when
// there is one that the model can run) and a line that says where they come from.
func resume(m *actadd.Model, path string, flags Settings) (Settings, string) {
	if path == "" {
		return flags, ""
	}
	st, ok, err := LoadState(path)
	switch {
	case err != nil:
		return flags, fmt.Sprintf("Started from the cell's flags: the settings kept from the last run could not be read (%v).", err)
	case !ok:
		return flags, ""
	}
	s := st.Resume(flags)
	if s == flags {
		return flags, ""
	}
	if err := s.Check(m.Layers()); err != nil {
		return flags, fmt.Sprintf("Started from the cell's flags: the settings kept from the last run cannot run (%v).", err)
	}
	return s, "Started from the settings you last set here; a flag you change in the cell replaces its control's value."
}

// Once runs one job for settings on view and waits for it; it returns the job's error.
func Once(ctx context.Context, m *actadd.Model, view View, settings Settings) error {
	rec := &errorView{View: view}
	s := NewSession(m, rec)
	s.Apply(ctx, Change{Seq: 1, Settings: settings})
	s.Wait()
	s.Close()
	if rec.err != "" {
		return errors.New("explorer: " + rec.err)
	}
	return ctx.Err()
}

// errorView remembers the last error status.
type errorView struct {
	View
	err string
}

func (v *errorView) Status(s string) {
	if e, ok := strings.CutPrefix(s, "error: "); ok {
		v.err = e
	}
	v.View.Status(s)
}

// TextView is a View that prints the finished columns and curve as text on w (Run uses it
// outside a notebook); label names the model and backend.
func TextView(w io.Writer, label string) View { return &textView{w: w, label: label} }

// textView prints the finished columns and curve.
type textView struct {
	w     io.Writer
	label string
}

func (v *textView) Columns(c Columns) {
	if !c.Done {
		return
	}
	fmt.Fprintf(v.w, "%s — seed %d\n--- unsteered\n", v.label, c.Settings.Seed)
	for i, t := range c.Unsteered {
		fmt.Fprintf(v.w, "[%d] %s%s\n", i, c.Settings.Prompt, strings.ReplaceAll(t, "\n", `\n`))
	}
	fmt.Fprintf(v.w, "--- steered: %s\n", c.Settings.Addition())
	for i, t := range c.Steered {
		fmt.Fprintf(v.w, "[%d] %s%s\n", i, c.Settings.Prompt, strings.ReplaceAll(t, "\n", `\n`))
	}
}

func (v *textView) Curve(c Curve) {
	if !c.Done {
		return
	}
	metric := MetricByName(c.Settings.Metric)
	means, base := c.Means(metric)
	fmt.Fprintf(v.w, "%s per completion by layer: %s; unsteered %.3g\n", metric.Name, strings.Join(roundAll(means), " "), base)
}

func (v *textView) Status(s string) {
	if strings.HasPrefix(s, "error: ") || strings.HasPrefix(s, "done: ") {
		fmt.Fprintln(v.w, s)
	}
}

// cellView shows the explorer in the cell's output: a note and a status line, then the
// columns and the plot. Headless, the columns and the plot are outputs updated in place
// (gonbui.UpdateHTML), so that the last state is what an executed notebook keeps; live, they
// go into the page's Layout (dom.SetInnerHtml), beside the controls, where the columns keep
// their scroll position as they grow.
type cellView struct {
	model, backend, label     string
	status, columns, plot, nt string  // display ids
	layout                    *Layout // live: where the columns and the plot go
}

func newCellView(m *actadd.Model) *cellView {
	id := gonbui.UniqueId()
	v := &cellView{model: m.Name, backend: m.BackendName, label: m.Label(),
		status: "actadd_explorer_status_" + id, columns: "actadd_explorer_columns_" + id,
		plot: "actadd_explorer_plot_" + id, nt: "actadd_explorer_note_" + id}
	v.Note("")
	v.Status("starting")
	return v
}

// Note shows a line above the explorer (how it runs).
func (v *cellView) Note(s string) {
	gonbui.UpdateHTML(v.nt, `<div class="actadd-explorer-note" style="font-style:italic">`+html.EscapeString(s)+`</div>`)
}

func (v *cellView) Status(s string) {
	gonbui.UpdateHTML(v.status, `<div class="actadd-explorer-status" style="font-family:monospace;padding:2px">`+html.EscapeString(s)+`</div>`)
}

func (v *cellView) Columns(c Columns) {
	h := ColumnsHTML(v.label, c)
	if v.layout != nil {
		dom.SetInnerHtml(v.layout.Columns, h)
		return
	}
	gonbui.UpdateHTML(v.columns, h)
}

func (v *cellView) Curve(c Curve) {
	h, err := CurveHTML(v.model, v.backend, c)
	if err != nil {
		v.Status("error: " + err.Error())
		return
	}
	if v.layout != nil {
		dom.SetInnerHtml(v.layout.Plot, h)
		return
	}
	gonbui.UpdateHTML(v.plot, h)
}

// controls are the explorer's widgets in the page.
type controls struct {
	layer, coeff, n, tokens, seed *widgets.SliderBuilder
	metric                        *widgets.SelectBuilder
	stop                          *widgets.ButtonBuilder
	plus, minus, prompt           string // ids of the text fields
	textAddress                   string // where the text fields report a change
	requestAddress                string // where the page takes a request to read the controls
	readAddress                   string // where the page answers it
	goneAddress                   string // where the page says that the explorer's output is gone
	layout                        Layout
}

// buildControls shows the explorer's Layout and the widgets in it (GoNB's sliders, select and
// button; text fields through gonbui/dom and comms), set to s. It blocks until the page has
// answered every widget.
func buildControls(m *actadd.Model, s Settings) *controls {
	id := gonbui.UniqueId()
	l := Layout{Root: "actadd-explorer-" + id, Controls: "actadd-explorer-controls-" + id,
		Columns: "actadd-explorer-columns-box-" + id, Plot: "actadd-explorer-plot-area-" + id}
	gonbui.DisplayHtml(l.HTML())
	panel := l.Controls
	c := &controls{textAddress: "/actadd/explorer/text/" + id, requestAddress: "/actadd/explorer/request/" + id,
		readAddress: "/actadd/explorer/read/" + id, goneAddress: "/actadd/explorer/gone/" + id, layout: l}
	row := func(label, valueID string) string {
		cell := "actadd-explorer-cell-" + gonbui.UniqueId()
		value := ""
		if valueID != "" {
			value = fmt.Sprintf(` <span id="%s" style="font-family:monospace"></span>`, valueID)
		}
		dom.Append(panel, fmt.Sprintf(`<label>%s%s</label><div id="%s"></div>`, html.EscapeString(label), value, cell))
		return cell
	}
	text := func(label, value string) string {
		cell := row(label, "")
		fid := "actadd-explorer-" + strings.ReplaceAll(strings.TrimSuffix(label, ":"), " ", "-") + "-" + id
		dom.Append(cell, fmt.Sprintf(`<input type="text" id="%s" value="%s" style="width:100%%;box-sizing:border-box" data-field="%s"/>`, fid, html.EscapeString(value), html.EscapeString(label)))
		return fid
	}
	c.prompt = text("prompt", s.Prompt)
	c.plus = text("p+", s.Plus)
	c.minus = text("p−", s.Minus)
	slider := func(label string, lo, hi, v int) *widgets.SliderBuilder {
		valueID := "actadd-explorer-value-" + gonbui.UniqueId()
		b := widgets.Slider(lo, hi, v).AppendTo(row(label, valueID)).WithHtmlId("actadd-explorer-" + label + "-" + id)
		b.Done()
		// Show the slider's value beside its label, updated in the page as it moves.
		scale := 1
		if label == "coefficient" {
			scale = coeffSteps
		}
		dom.TransientJavascript(fmt.Sprintf(`(() => {
	const s = document.getElementById(%q), out = document.getElementById(%q);
	const show = () => { out.textContent = String(Number(s.value) / %d); };
	s.addEventListener("input", show); show();
})();`, b.HtmlId(), valueID, scale))
		return b
	}
	c.layer = slider("layer", 0, m.Layers()-1, s.Layer)
	c.coeff = slider("coefficient", -MaxCoeff*coeffSteps, MaxCoeff*coeffSteps, int(s.Coeff*coeffSteps))
	c.n = slider("completions", 1, MaxN, s.N)
	c.tokens = slider("tokens", 1, MaxTokens, s.Tokens)
	c.seed = slider("seed", 0, 99, int(s.Seed))
	metric := 0
	for i, name := range MetricNames() {
		if name == s.Metric {
			metric = i
		}
	}
	c.metric = widgets.Select(MetricNames()).SetDefault(metric).AppendTo(row("plot", "")).WithHtmlId("actadd-explorer-metric-" + id)
	c.metric.Done()
	c.stop = widgets.Button("stop generating").AppendTo(row("", "")).WithHtmlId("actadd-explorer-stop-" + id)
	c.stop.Done()
	// Text fields report a change on Enter or when left, and after a pause in typing. A request
	// (a number) on requestAddress is answered on readAddress with every control's value. When
	// the explorer's output leaves the page (the cell runs again, or its output is cleared),
	// the page says so on goneAddress.
	dom.TransientJavascript(fmt.Sprintf(`(() => {
	const root = document.getElementById(%q);
	const watch = setInterval(() => {
		if (!root.isConnected) { clearInterval(watch); globalThis.gonb_comm?.send(%q, "gone"); }
	}, 250);
	for (const id of [%q, %q, %q]) {
		const el = document.getElementById(id);
		let timer = null;
		const send = () => { clearTimeout(timer); globalThis.gonb_comm?.send(%q, el.value); };
		el.addEventListener("change", send);
		el.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(send, 600); });
	}
	const v = id => document.getElementById(id)?.value ?? null;
	globalThis.gonb_comm?.subscribe(%q, (address, req) => {
		globalThis.gonb_comm?.send(%q, JSON.stringify({req: req, layer: v(%q), coeff: v(%q), n: v(%q), tokens: v(%q), seed: v(%q),
			metric: v(%q), plus: v(%q), minus: v(%q), prompt: v(%q)}));
	});
})();`, l.Root, c.goneAddress, c.prompt, c.plus, c.minus, c.textAddress, c.requestAddress, c.readAddress,
		c.layer.HtmlId(), c.coeff.HtmlId(), c.n.HtmlId(), c.tokens.HtmlId(), c.seed.HtmlId(), c.metric.HtmlId(), c.plus, c.minus, c.prompt))
	return c
}

// showStopped shows the controls as stopped: every control disabled and greyed, with note
// above them.
func (c *controls) showStopped(note string) {
	dom.TransientJavascript(fmt.Sprintf(`(() => {
	const panel = document.getElementById(%q);
	if (!panel) return;
	for (const el of panel.querySelectorAll("input, select, button, textarea")) el.disabled = true;
	panel.style.opacity = "0.45";
	panel.dataset.stopped = "true";
	const n = document.createElement("div");
	n.className = "actadd-explorer-stopped";
	n.style.cssText = "font-weight:bold;margin:4px 0";
	n.textContent = %q;
	panel.before(n);
})();`, c.layout.Controls, note))
}

// StoppedNote is shown above the controls of an explorer whose cell was stopped.
const StoppedNote = "Stopped: these controls no longer steer anything. Run the cell again to explore; it starts from these settings."

// read asks the page for every control's current value (one message, so the values are
// consistent and current whatever order GoNB delivered the widgets' own messages in). A
// request that goes unanswered is sent again, up to readTries times.
func (c *controls) read(ctx context.Context, replies <-chan string, req int) (Settings, error) {
	for try := 0; try < readTries; try++ {
		comms.Send(c.requestAddress, req)
		s, err := c.reply(ctx, replies, req)
		if !errors.Is(err, errNoAnswer) {
			return s, err
		}
	}
	return Settings{}, fmt.Errorf("the page did not answer %d reads of the controls", readTries)
}

const readTries = 3

var errNoAnswer = errors.New("no answer")

// reply waits for the page's answer to request req.
func (c *controls) reply(ctx context.Context, replies <-chan string, req int) (Settings, error) {
	timeout := time.After(readTimeout)
	for {
		select {
		case <-ctx.Done():
			return Settings{}, ctx.Err()
		case <-timeout:
			return Settings{}, errNoAnswer
		case r := <-replies:
			var got struct {
				Req                                   int
				Layer, Coeff, N, Tokens, Seed, Metric string
				Plus, Minus, Prompt                   string
			}
			if err := json.Unmarshal([]byte(r), &got); err != nil {
				return Settings{}, fmt.Errorf("reading the controls: %w", err)
			}
			if got.Req != req {
				continue // the answer to an earlier read
			}
			return parseControls(got.Layer, got.Coeff, got.N, got.Tokens, got.Seed, got.Metric, got.Plus, got.Minus, got.Prompt)
		}
	}
}

// parseControls turns the controls' values (as the page holds them: strings) into Settings.
func parseControls(layer, coeff, n, tokens, seed, metric, plus, minus, prompt string) (Settings, error) {
	ints := map[string]*int{}
	var s Settings
	var coeffPos, metricIdx, seedInt int
	ints["layer"], ints["coefficient"], ints["completions"], ints["tokens"], ints["seed"], ints["plot"] = &s.Layer, &coeffPos, &s.N, &s.Tokens, &seedInt, &metricIdx
	for name, val := range map[string]string{"layer": layer, "coefficient": coeff, "completions": n, "tokens": tokens, "seed": seed, "plot": metric} {
		v, err := strconv.Atoi(val)
		if err != nil {
			return Settings{}, fmt.Errorf("the %s control holds %q, not a whole number", name, val)
		}
		*ints[name] = v
	}
	if metricIdx < 0 || metricIdx >= len(Metrics) || seedInt < 0 {
		return Settings{}, fmt.Errorf("the controls hold an impossible value (plot %d, seed %d)", metricIdx, seedInt)
	}
	s.Coeff = float64(coeffPos) / coeffSteps
	s.Seed = uint64(seedInt)
	s.Metric = Metrics[metricIdx].Name
	s.Plus, s.Minus, s.Prompt = plus, minus, prompt
	return s, nil
}

// runLive builds the controls and steers a Session from them until ctx is done or the page
// says that the explorer's output is gone. It starts from the kept state (resume) and keeps
// every settings it applies.
func runLive(ctx context.Context, m *actadd.Model, v *cellView, flags Settings) error {
	statePath, stateErr := StatePath(notebookDir(), m.Name)
	start, resumed := resume(m, statePath, flags)
	keep := func(st Settings) {
		if stateErr != nil {
			return
		}
		if err := SaveState(statePath, State{Flags: flags, Last: st}); err != nil {
			stateErr = err
			v.Status("error: the settings cannot be kept for the next run: " + err.Error())
		}
	}
	v.Status("connecting the controls to the page")
	built := make(chan *controls, 1)
	go func() { built <- buildControls(m, start) }()
	var c *controls
	select {
	case c = <-built:
	case <-ctx.Done():
		v.Status("stopped")
		return nil
	case <-time.After(connectTimeout):
		v.Note(ConnectNote)
		return Once(ctx, m, v, flags)
	}
	v.layout = &c.layout
	note := "Live: move a control and the columns regenerate (a change cancels the generation in progress). Stop the cell (■) to end."
	if resumed != "" {
		note += " " + resumed
	}
	v.Note(note)

	// Every widget message, and every text field change, only says "something changed": the
	// values are read from the page once the controls are still (Quiet).
	pokes := make(chan struct{}, 1)
	poke := func() {
		select {
		case pokes <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	forward := func(ch <-chan int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
				poke()
			}
		}()
	}
	listeners := []*comms.AddressChan[int]{c.layer.Listen(), c.coeff.Listen(), c.n.Listen(), c.tokens.Listen(), c.seed.Listen(), c.metric.Listen()}
	for _, l := range listeners {
		forward(l.C)
	}
	texts := comms.Listen[string](c.textAddress)
	replies := comms.Listen[string](c.readAddress).WithBuffer(8)
	gone := comms.Listen[string](c.goneAddress)
	stops := c.stop.Listen()
	defer func() {
		for _, l := range append(listeners, stops) {
			l.Close()
		}
		texts.Close()
		replies.Close()
		gone.Close()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range texts.C {
			poke()
		}
	}()

	s := NewSession(m, v)
	defer s.Close()
	seq := uint64(1)
	s.Apply(ctx, Change{Seq: seq, Settings: start})
	keep(start)
	for {
		select {
		case <-ctx.Done():
			s.Close()
			c.showStopped(StoppedNote)
			v.Status("stopped: the cell was interrupted")
			return nil
		case <-gone.C:
			// The cell runs again (or its output was cleared): end, so that the new run,
			// which waits for this one, takes over.
			s.Close()
			return nil
		case <-stops.C:
			s.Stop()
		case <-pokes:
			if !quiet(ctx, pokes) {
				continue
			}
			seq++
			st, err := c.read(ctx, replies.C, int(seq))
			if err != nil {
				if ctx.Err() == nil {
					v.Status("error: " + err.Error())
				}
				continue
			}
			s.Apply(ctx, Change{Seq: seq, Settings: st})
			keep(st)
		}
	}
}

// quiet waits until no poke came for Quiet; it returns false if ctx ended first.
func quiet(ctx context.Context, pokes <-chan struct{}) bool {
	t := time.NewTimer(Quiet)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-pokes:
			t.Reset(Quiet)
		case <-t.C:
			return true
		}
	}
}
