package sweep

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/renameio/v2"
	"github.com/parquet-go/parquet-go"
)

// Row is one line of a sweep's table: one metric of one setting, with its 95% interval. CSV and
// Parquet files have one column per field, named as the parquet tags say.
type Row struct {
	Model    string  `parquet:"model"`
	Prompt   string  `parquet:"prompt"`
	Steered  bool    `parquet:"steered"`
	Addition string  `parquet:"addition"`
	Layer    int64   `parquet:"layer"` // -1 unsteered
	Coeff    float64 `parquet:"coeff"`
	Metric   string  `parquet:"metric"`
	N        int64   `parquet:"n"`     // completions or texts measured
	Value    float64 `parquet:"value"` // mean, or fraction for a yes/no metric
	// CILo and CIHi are the interval's ends: NaN (an empty CSV field) where it is undefined.
	CILo     float64 `parquet:"ci95_lo"`
	CIHi     float64 `parquet:"ci95_hi"`
	Interval string  `parquet:"interval"` // the interval's method
}

// columns are the table's column names, in field order.
var columns = []string{"model", "prompt", "steered", "addition", "layer", "coeff", "metric", "n", "value", "ci95_lo", "ci95_hi", "interval"}

// Table is the result as rows: for every setting (in grid order), one row per metric (in the
// order given).
func (r *Result) Table() []Row {
	var out []Row
	for _, s := range r.Settings {
		for _, name := range r.Metrics {
			e := s.Stats[name]
			out = append(out, Row{Model: r.Model, Prompt: s.Prompt, Steered: s.Steered, Addition: s.Addition, Layer: int64(s.Layer),
				Coeff: s.Coeff, Metric: name, N: int64(e.N), Value: e.Value, CILo: e.Lo, CIHi: e.Hi, Interval: e.Method})
		}
	}
	return out
}

// WriteCSV writes Table as CSV with a header line; numbers are written exactly (shortest
// round-trip form) and an undefined interval end as an empty field.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns); err != nil {
		return err
	}
	num := func(x float64) string {
		if math.IsNaN(x) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	for _, row := range r.Table() {
		rec := []string{row.Model, row.Prompt, strconv.FormatBool(row.Steered), row.Addition, strconv.FormatInt(row.Layer, 10),
			num(row.Coeff), row.Metric, strconv.FormatInt(row.N, 10), num(row.Value), num(row.CILo), num(row.CIHi), row.Interval}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteParquet writes Table as a Parquet file (github.com/parquet-go/parquet-go), which pandas
// (read_parquet) and polars read with the column types kept.
func (r *Result) WriteParquet(w io.Writer) error {
	return parquet.Write(w, r.Table())
}

// SaveTable writes <name>.csv and <name>.parquet into dir (created if missing), each through
// a temporary file renamed into place, and returns their paths.
func (r *Result) SaveTable(dir, name string) ([]string, error) {
	if name == "" || filepath.Base(name) != name {
		return nil, fmt.Errorf("sweep: table name %q must be a plain file name stem (e.g. \"e2-wedding\")", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sweep: creating the table folder: %w", err)
	}
	var paths []string
	for _, f := range []struct {
		ext   string
		write func(io.Writer) error
	}{{".csv", r.WriteCSV}, {".parquet", r.WriteParquet}} {
		path := filepath.Join(dir, name+f.ext)
		t, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644))
		if err != nil {
			return paths, fmt.Errorf("sweep: writing %s: %w", path, err)
		}
		err = f.write(t)
		if err == nil {
			err = t.CloseAtomicallyReplace()
		}
		t.Cleanup()
		if err != nil {
			return paths, fmt.Errorf("sweep: writing %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
