package nbutil

import (
	"fmt"
	"html"

	"github.com/actadd-go/actadd/progress"
	"github.com/janpfeifer/gonb/gonbui"
)

// In a notebook, every long library call that reports progress (generation, scoring, the
// experiments) also shows it as one line in the cell's output, updated in place: a bar,
// done/total, the rate and the time left (ProgressHTML). A cell needs nothing for it: importing
// nbutil registers the display.
func init() {
	if gonbui.IsNotebook {
		progress.Observe(showProgress)
	}
}

// showProgress renders s into the cell output that belongs to its meter.
func showProgress(s progress.Status) {
	gonbui.UpdateHTML(fmt.Sprintf("actadd_progress_%d", s.ID), ProgressHTML(s))
}

// ProgressHTML is a progress status as one line of HTML: a bar and the status's text.
func ProgressHTML(s progress.Status) string {
	return fmt.Sprintf(`<div class="actadd-progress" style="font-family:monospace"><progress value="%d" max="%d" style="width:12em;vertical-align:middle"></progress> %s</div>`,
		s.Done, max(s.Total, 1), html.EscapeString(s.String()))
}
