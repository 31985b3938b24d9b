package nbutil

import (
	"fmt"
	"html"
	"sync"

	"github.com/actadd-go/actadd/progress"
	"github.com/janpfeifer/gonb/gonbui"
)

// In a notebook, every long library call that reports progress (generation, scoring, the
// experiments) also shows it as one line in the cell's output, updated in place: a bar,
// done/total, the rate and the time left (ProgressHTML). A cell needs nothing for it: importing
// nbutil registers the display.
func init() {
	if inNotebook {
		progress.Observe(showProgress)
	}
}

// runID makes this program's display ids its own. Meter ids restart at 1 in every cell's
// program, while GoNB keeps display ids for the whole kernel session: with the meter id alone,
// a cell run again would update the output of its earlier run (cleared from the page) and
// show no bar.
var runID = gonbui.UniqueId()

// progressID is the id of the cell output that shows the meter of s.
func progressID(s progress.Status) string {
	return fmt.Sprintf("actadd_progress_%s_%d", runID, s.ID)
}

// lastProgress is the latest status of the meter at work (Interrupted reports it).
var (
	lastMu       sync.Mutex
	lastProgress *progress.Status
)

// showProgress renders s into the cell output that belongs to its meter.
func showProgress(s progress.Status) {
	lastMu.Lock()
	lastProgress = &s
	lastMu.Unlock()
	gonbui.UpdateHTML(progressID(s), ProgressHTML(s))
}

// ProgressHTML is a progress status as one line of HTML: a bar and the status's text.
func ProgressHTML(s progress.Status) string {
	return fmt.Sprintf(`<div class="actadd-progress" style="font-family:monospace"><progress value="%d" max="%d" style="width:12em;vertical-align:middle"></progress> %s</div>`,
		s.Done, max(s.Total, 1), html.EscapeString(s.String()))
}
