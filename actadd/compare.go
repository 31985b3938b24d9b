package actadd

import (
	"fmt"
	"html"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Comparison is one prompt continued n times by the unsteered model and n times with the
// additions, completion i of both columns sampled from the same random stream (Seed, i): the
// two columns differ by the steering alone. Print it (String) or show it in a notebook (HTML).
type Comparison struct {
	Model        string // the model and backend (Model.Label)
	Prompt       string
	Adds         []Addition
	Sampling     Sampling
	MaxNewTokens int
	// Unsteered[i] and Steered[i] are completion i of each column.
	Unsteered, Steered []Completion
}

// Compare continues prompt n times without and n times with adds in one batched job (the same
// compiled programs for both columns), row i of both columns drawing from random stream
// (opts.Seed, i), and returns both columns side by side:
//
//	cmp, err := m.Compare("I went up to my friend and said", 4, opts, actadd.Pair(" weddings", "", 4).AtLayer(6))
//	fmt.Print(cmp)
//
// opts.Streams must be nil: Compare pairs the streams itself.
func (m *Model) Compare(prompt string, n int, opts GenerateOptions, adds ...Addition) (*Comparison, error) {
	return m.compare(prompt, n, opts, adds, func(p string, adds []Addition) Row { return Row{Prompt: p, Adds: adds} })
}

// compare is Compare with the rows made by row (a prompt's text, or its chat messages).
func (m *Model) compare(prompt string, n int, opts GenerateOptions, adds []Addition, row func(string, []Addition) Row) (*Comparison, error) {
	switch {
	case n < 1:
		return nil, fmt.Errorf("actadd: Compare needs at least one completion per column, got n = %d", n)
	case len(adds) == 0:
		return nil, fmt.Errorf("actadd: Compare needs at least one addition: without one both columns are the unsteered model")
	case opts.Streams != nil:
		return nil, fmt.Errorf("actadd: Compare pairs the random streams itself (row i of both columns draws stream i): leave GenerateOptions.Streams nil")
	}
	rows := make([]Row, 2*n)
	opts.Streams = make([]uint64, 2*n)
	for i := range n {
		rows[i], rows[n+i] = row(prompt, nil), row(prompt, adds)
		opts.Streams[i], opts.Streams[n+i] = uint64(i), uint64(i)
	}
	out, err := m.GenerateRows(rows, opts)
	if err != nil {
		return nil, err
	}
	return &Comparison{Model: m.Label(), Prompt: prompt, Adds: adds, Sampling: opts.Sampling, MaxNewTokens: opts.MaxNewTokens,
		Unsteered: out[:n], Steered: out[n:]}, nil
}

// Caption says what the comparison shows: the model, the sampler and the pairing of the rows.
func (c *Comparison) Caption() string {
	s := c.Sampling
	return fmt.Sprintf("%s: %d new tokens, T=%g, top-p %g, frequency penalty %g, seed %d; row i of both columns samples random stream i",
		c.Model, c.MaxNewTokens, s.Temperature, s.TopP, s.FreqPenalty, s.Seed)
}

// headings are the column headings: "unsteered" and "steered: " with the additions.
func (c *Comparison) headings() [2]string {
	adds := make([]string, len(c.Adds))
	for i, a := range c.Adds {
		adds[i] = a.String()
	}
	return [2]string{"unsteered", "steered: " + strings.Join(adds, " + ")}
}

// textWidth is the width of each column of String's table, in characters.
const textWidth = 48

// String is the comparison as a text table: the caption, then one row per completion with the
// prompt and the unsteered and steered continuations side by side, wrapped to 48 characters a
// column. Line breaks inside a completion are shown as \n.
func (c *Comparison) String() string {
	var b strings.Builder
	b.WriteString(c.Caption() + "\n")
	t := tablewriter.NewTable(&b,
		tablewriter.WithRowMaxWidth(textWidth), tablewriter.WithHeaderMaxWidth(textWidth),
		tablewriter.WithRowAutoWrap(tw.WrapNormal), tablewriter.WithHeaderAutoWrap(tw.WrapNormal),
		tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignLeft), tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRendition(tw.Rendition{Settings: tw.Settings{Separators: tw.Separators{BetweenRows: tw.On}}}))
	h := c.headings()
	t.Header(h[0], h[1])
	flat := func(s string) string { return c.Prompt + strings.ReplaceAll(s, "\n", `\n`) }
	for i := range c.Unsteered {
		if err := t.Append(flat(c.Unsteered[i].Text), flat(c.Steered[i].Text)); err != nil {
			return fmt.Sprintf("actadd: formatting the comparison: %v", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Sprintf("actadd: formatting the comparison: %v", err)
	}
	return b.String()
}

// HTML is the comparison as an HTML table for a notebook: the caption, the headings, and one
// row per completion with the prompt in bold before each continuation. Text is escaped; line
// breaks are kept.
func (c *Comparison) HTML() string {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;table-layout:fixed;width:100%">`)
	fmt.Fprintf(&b, `<caption style="text-align:left;font-weight:bold;padding:4px">%s</caption>`, html.EscapeString(c.Caption()))
	b.WriteString("<tr>")
	for _, h := range c.headings() {
		fmt.Fprintf(&b, `<th style="text-align:left;border:1px solid #ccc;padding:4px">%s</th>`, html.EscapeString(h))
	}
	b.WriteString("</tr>")
	const cell = `<td style="text-align:left;vertical-align:top;white-space:pre-wrap;border:1px solid #ccc;padding:4px"><b>%s</b>%s</td>`
	prompt := html.EscapeString(c.Prompt)
	for i := range c.Unsteered {
		b.WriteString("<tr>")
		fmt.Fprintf(&b, cell, prompt, html.EscapeString(c.Unsteered[i].Text))
		fmt.Fprintf(&b, cell, prompt, html.EscapeString(c.Steered[i].Text))
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return b.String()
}
