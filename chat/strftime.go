package chat

import (
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// strftimeNow is strftime_now(format) on a given clock. Written here because the Jinja
// library's own strftime_now reads time.Now with no way to fix the clock, and a rendering that
// depends on the day it runs is not reproducible. It formats as Python's
// datetime.now().strftime does in the C locale, for the directives below; others are kept
// as written.
func strftimeNow(now func() time.Time) func(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	return func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		format := "%Y-%m-%d"
		if len(args) > 0 && args[0].IsString() {
			format = args[0].AsString()
		}
		return jinja.NewString(strftime(now(), format)), nil
	}
}

var strftimeLayouts = map[byte]string{
	'Y': "2006", 'm': "01", 'd': "02", 'H': "15", 'M': "04", 'S': "05", 'I': "03", 'p': "PM",
	'B': "January", 'b': "Jan", 'h': "Jan", 'A': "Monday", 'a': "Mon", 'y': "06", 'Z': "MST",
	'z': "-0700",
}

func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		d := format[i]
		switch {
		case d == '%':
			b.WriteByte('%')
		case d == 'j':
			b.WriteString(t.Format("002"))
		case d == 'e':
			b.WriteString(t.Format("_2"))
		case strftimeLayouts[d] != "":
			b.WriteString(t.Format(strftimeLayouts[d]))
		default:
			b.WriteByte('%')
			b.WriteByte(d)
		}
	}
	return b.String()
}
