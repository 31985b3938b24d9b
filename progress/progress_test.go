package progress

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// clock is a fake time source that tests advance by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestMeterLines(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	var out strings.Builder
	m := newAt(&out, "generate tiny on go", "tokens", 100, c.now)
	c.advance(time.Second)
	m.Add(10) // before Every: no line
	if out.Len() != 0 {
		t.Fatalf("a line before %v: %q", Every, out.String())
	}
	c.advance(4 * time.Second)
	m.Add(10) // 20 done in 5 s: 4/s, 80 left → 20 s
	want := "generate tiny on go: 20/100 tokens (20%), 4.00 tokens/s, 5.0s elapsed, about 20s left\n"
	if out.String() != want {
		t.Fatalf("line %q, want %q", out.String(), want)
	}
	out.Reset()
	c.advance(15 * time.Second)
	m.Add(80) // finished: a line at once, whatever the time
	want = "generate tiny on go: 100/100 tokens in 20s, 5.00 tokens/s\n"
	if out.String() != want {
		t.Fatalf("final line %q, want %q", out.String(), want)
	}
}

func TestStatusLeftUnknownAtStart(t *testing.T) {
	s := Status{What: "score", Unit: "texts", Total: 10, Elapsed: 3 * time.Second}
	if _, ok := s.Left(); ok {
		t.Error("time left is known with nothing done")
	}
	if got := s.String(); !strings.Contains(got, "time left not known yet") {
		t.Errorf("String() = %q", got)
	}
	if got := s.FileLine(); !strings.HasPrefix(got, "-1\t") {
		t.Errorf("FileLine() = %q, want -1 seconds left", got)
	}
	s.Done = 5 // 5 in 3 s: 3 s left
	if got := s.FileLine(); !strings.HasPrefix(got, "3\tscore: 5/10 texts") {
		t.Errorf("FileLine() = %q", got)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond:          "850ms",
		2700 * time.Millisecond:         "2.7s",
		42 * time.Second:                "42s",
		185 * time.Second:               "3m05s",
		2*time.Hour + 4*time.Minute + 9: "2h04m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// Observers see meters with a writer, throttled to ObserveEvery, and always the finish; meters
// without a writer stay quiet.
func TestObserve(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	var seen []Status
	stop := Observe(func(s Status) { seen = append(seen, s) })
	quiet := newAt(nil, "quiet", "x", 3, c.now)
	quiet.Add(3)
	if len(seen) != 0 {
		t.Fatalf("a meter without a writer was observed: %v", seen)
	}
	m := newAt(&strings.Builder{}, "loud", "x", 10, c.now)
	m.Add(1) // first report at once
	m.Add(1) // too soon
	c.advance(ObserveEvery)
	m.Add(1)
	m.Add(7) // finished
	stop()
	m2 := newAt(&strings.Builder{}, "after stop", "x", 1, c.now)
	m2.Add(1)
	var dones []int
	for _, s := range seen {
		if s.ID != m.id {
			t.Fatalf("observed %v, not the loud meter", s)
		}
		dones = append(dones, s.Done)
	}
	if want := []int{1, 3, 10}; !slices.Equal(dones, want) {
		t.Errorf("observed done counts %v, want %v", dones, want)
	}
	if !seen[len(seen)-1].Finished {
		t.Error("the last report is not Finished")
	}
}

func TestFileEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "progress.txt")
	t.Setenv(FileEnv, path)
	c := &clock{t: time.Unix(1000, 0)}
	m := newAt(&strings.Builder{}, "rank tiny on go", "prompts", 4, c.now)
	c.advance(Every)
	m.Add(2)
	c.advance(time.Second)
	m.Add(2)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "5\trank tiny on go: 2/4 prompts (50%), 0.4 prompts/s, 5.0s elapsed, about 5.0s left\n" +
		"0\trank tiny on go: 4/4 prompts in 6.0s, 0.667 prompts/s\n"
	if string(data) != want {
		t.Errorf("file holds\n%s\nwant\n%s", data, want)
	}
}

func TestNilMeter(t *testing.T) {
	var m *Meter
	m.Add(1) // must not panic
}
