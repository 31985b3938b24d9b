package experiments

import (
	"encoding"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// Scales of an experiment's config: the paper's sizes, or a CPU-sized quick run for CI and
// first looks. Each experiment's config comes from one place, XAt(scale) (PerplexityAt,
// WeddingAt, ConceptNetAt, OverheadAt), and a notebook's or a program's flags change single
// values of it (XFlags, see Flags).
const (
	ScalePaper = "paper"
	ScaleQuick = "quick"
)

// EnvScale names the default scale of XFlags's --scale flag.
const EnvScale = "ACTADD_SCALE"

// atScale returns paper() or quick() by scale.
func atScale[T any](what, scale string, paper, quick func() T) (T, error) {
	switch scale {
	case ScalePaper:
		return paper(), nil
	case ScaleQuick:
		return quick(), nil
	}
	var zero T
	return zero, fmt.Errorf("experiments: %s: unknown scale %q: use %q (the paper's sizes) or %q (a quick run)", what, scale, ScalePaper, ScaleQuick)
}

// Flags maps command-line flags onto an experiment's config, the same way for every
// experiment: --scale picks the config (XAt; default $ACTADD_SCALE, else paper), and each other
// flag, when given, replaces one field of it. A notebook declares them in its parameters cell,
//
//	var e2 = experiments.WeddingFlags(flag.CommandLine)
//
// and its run cell (%% --layers=0,6 --coeffs=1,4) builds the config with e2.Config().
type Flags[C any] struct {
	what    string
	at      func(string) (C, error)
	scale   *string
	runsDir string
	specs   []flagSpec
	given   map[string]string // flag name → value, for the flags given
}

// flagSpec is one flag: its name, the config field it sets (a path such as "Sampling.Seed")
// and what it means. A flag of a boolean field (such as --fresh) may be given without a value.
type flagSpec struct {
	name, field, usage string
}

// freshFlag is every experiment's --fresh: compute every unit again (RunStore.Fresh).
var freshFlag = flagSpec{"fresh", "Runs.Fresh", "compute every unit of work again instead of reusing those the run store holds (they are superseded, not deleted)"}

// newFlags registers --scale and the specs' flags on fs. Each flag's help ends with the value
// of its field at both scales.
func newFlags[C any](fs *flag.FlagSet, what string, at func(string) (C, error), specs []flagSpec) *Flags[C] {
	specs = append(specs, freshFlag)
	f := &Flags[C]{what: what, at: at, specs: specs, given: map[string]string{}}
	def := os.Getenv(EnvScale)
	if def == "" {
		def = ScalePaper
	}
	f.scale = fs.String("scale", def, fmt.Sprintf("%q (the paper's sizes) or %q (a quick run); default $%s, else %s", ScalePaper, ScaleQuick, EnvScale, ScalePaper))
	paper, _ := at(ScalePaper)
	quick, _ := at(ScaleQuick)
	for _, s := range specs {
		usage := fmt.Sprintf("%s (paper: %s; quick: %s)", s.usage, showField(paper, s.field), showField(quick, s.field))
		set := func(v string) error {
			f.given[s.name] = v
			return nil
		}
		if field(reflect.ValueOf(paper), s.field).Kind() == reflect.Bool {
			fs.BoolFunc(s.name, usage, set)
		} else {
			fs.Func(s.name, usage, set)
		}
	}
	return f
}

// Scale is the scale the flags select.
func (f *Flags[C]) Scale() string { return *f.scale }

// SetScale selects scale in place of --scale's value (Config checks it), for a caller whose
// own rule picks the scale, such as the notebooks running the tiny stand-in quick.
func (f *Flags[C]) SetScale(scale string) { *f.scale = scale }

// SetRunsDir sets the run store's folder (RunStore.Dir) of the configs Config returns, for a
// caller whose own rule picks it, such as the notebooks ($ACTADD_RUNS, default .cache/runs);
// "" means no store.
func (f *Flags[C]) SetRunsDir(dir string) { f.runsDir = dir }

// Config returns the config at the selected scale with the value of every flag given on the
// command line, checked as the experiment would check it, so that a bad value fails before any
// model is loaded.
func (f *Flags[C]) Config() (C, error) {
	cfg, err := f.at(*f.scale)
	if err != nil {
		return cfg, fmt.Errorf("%w (from --scale or $%s)", err, EnvScale)
	}
	v := reflect.ValueOf(&cfg).Elem()
	if dir := field(v, "Runs.Dir"); dir.IsValid() {
		dir.SetString(f.runsDir)
	}
	for _, s := range f.specs {
		given, ok := f.given[s.name]
		if !ok {
			continue
		}
		if err := setText(field(v, s.field), given); err != nil {
			return cfg, fmt.Errorf("experiments: %s: --%s=%q: %w", f.what, s.name, given, err)
		}
	}
	if c, ok := any(&cfg).(interface{ check() error }); ok {
		if err := c.check(); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// field is the field of struct v at a dotted path.
func field(v reflect.Value, path string) reflect.Value {
	for _, name := range strings.Split(path, ".") {
		if !v.IsValid() {
			break
		}
		v = v.FieldByName(name)
	}
	return v
}

// showField formats a config field for a flag's help.
func showField(cfg any, path string) string {
	v := field(reflect.ValueOf(cfg), path)
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, _ := m.MarshalText()
		if len(b) == 0 {
			return "none"
		}
		return string(b)
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

// setText sets v from its text form: through encoding.TextUnmarshaler when v has one, else by
// kind (numbers, strings, booleans, and comma-separated lists of those; "" is an empty list).
func setText(v reflect.Value, s string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	s = strings.TrimSpace(s)
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not a whole number")
		}
		v.SetInt(n)
	case reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not a whole number ≥ 0")
		}
		v.SetUint(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("not a finite number")
		}
		v.SetFloat(x)
	case reflect.Slice:
		items := splitList(s)
		out := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, it := range items {
			if err := setText(out.Index(i), it); err != nil {
				return fmt.Errorf("item %q: %w", it, err)
			}
		}
		if len(items) == 0 {
			out = reflect.Zero(v.Type())
		}
		v.Set(out)
	default:
		return fmt.Errorf("a config field of kind %s cannot be a flag", v.Kind())
	}
	return nil
}

// PerplexityAt returns E1's config at a scale.
func PerplexityAt(scale string) (PerplexityConfig, error) {
	return atScale("E1", scale, paperPerplexity, quickPerplexity)
}

// WeddingAt returns E2's config at a scale.
func WeddingAt(scale string) (WeddingConfig, error) {
	return atScale("E2", scale, paperWedding, quickWedding)
}

// ConceptNetAt returns E3's config at a scale.
func ConceptNetAt(scale string) (ConceptNetConfig, error) {
	return atScale("E3", scale, paperConceptNet, quickConceptNet)
}

// OverheadAt returns E4's config at a scale.
func OverheadAt(scale string) (OverheadConfig, error) {
	return atScale("E4", scale, paperOverhead, quickOverhead)
}

// PerplexityFlags registers E1's flags on fs: --scale, --layers, --coeff, --docs, --seed,
// --min_bin_docs, --fresh.
func PerplexityFlags(fs *flag.FlagSet) *Flags[PerplexityConfig] {
	return newFlags(fs, "E1", PerplexityAt, []flagSpec{
		{"layers", "Layers", "injection layers, one curve each: numbers or scaled layers such as 16/48 (layer 16 of 48 scaled to the model)"},
		{"coeff", "Coeff", "coefficient c of the \" weddings\" vector"},
		{"docs", "Docs", "documents to sample, half of them wedding-related"},
		{"seed", "Seed", "seed of the document sample"},
		{"min_bin_docs", "MinBinDocs", "show only relevance bins with more than this many documents"},
	})
}

// WeddingFlags registers E2's flags on fs: --scale, --layers, --coeffs, --completions,
// --tokens, --seed, --fresh.
func WeddingFlags(fs *flag.FlagSet) *Flags[WeddingConfig] {
	return newFlags(fs, "E2", WeddingAt, []flagSpec{
		{"layers", "Layers", "injection layers to sweep: numbers or scaled layers such as 6/48, or all"},
		{"coeffs", "Coeffs", "coefficients to sweep, one curve each"},
		{"completions", "Completions", "completions per setting"},
		{"tokens", "NewTokens", "new tokens per completion"},
		{"seed", "Sampling.Seed", "sampling seed: completion c of every setting samples stream (seed, c)"},
	})
}

// ConceptNetFlags registers E3's flags on fs: --scale, --layer, --coeff, --max_items, --fresh.
func ConceptNetFlags(fs *flag.FlagSet) *Flags[ConceptNetConfig] {
	return newFlags(fs, "E3", ConceptNetAt, []flagSpec{
		{"layer", "Layer", "injection layer: a number or a scaled layer such as 16/48"},
		{"coeff", "Coeff", "coefficient c of the \" weddings\" vector"},
		{"max_items", "MaxItems", "score only the first N single-token probes; 0: all"},
	})
}

// OverheadFlags registers E4's flags on fs: --scale, --shapes, --seeds, --batch, --seq, --reps,
// --ops_reps, --layer, --fresh.
func OverheadFlags(fs *flag.FlagSet) *Flags[OverheadConfig] {
	return newFlags(fs, "E4", OverheadAt, []flagSpec{
		{"shapes", "Shapes", "model shapes: gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, tiny or <layers>x<width>; or the Llama family's smollm2-135m, smollm2-360m, smollm2-1.7b, qwen2.5-0.5b, tiny-llama, tiny-mistral, tiny-qwen2, tiny-qwen3"},
		{"seeds", "Seeds", "seeds per shape"},
		{"batch", "Batch", "rows per forward pass"},
		{"seq", "Seq", "tokens per row"},
		{"reps", "Reps", "timed passes per arm and seed"},
		{"ops_reps", "OpsReps", "A/B pairs timing the steering ops alone (0: skip)"},
		{"layer", "Layer", "injection layer: a number or a scaled layer such as 1/2 (n_layer/2)"},
	})
}
