package experiments

import (
	"flag"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// Layer names an injection layer, the same way in configs, flags, notebooks and sidecars:
// layer At itself ("6"), or, with Of > 0, layer At of an Of-layer model scaled to the depth of
// the model at hand ("16/48"), At·n_layer/Of rounded down. The paper steers E1 and E3 at 16/48
// (16 on gpt2-xl, 12 on gpt2-large, 8 on gpt2-medium, 4 on gpt2, 1 on the 4-layer tiny
// stand-in) and E4 at 1/2, n_layer/2 as the authors' L//2.
//
// In a list of layers (Layers), Layer{All: true}, written "all", stands for every layer of the
// model at hand: AllLayers.
type Layer struct {
	At, Of int
	All    bool
}

// AllLayers is every layer of the model at hand, 0 … n_layer−1, whatever its depth: as text,
// "all" (--layers=all). A nil Layers is no layer at all, never all of them, as a nil
// sweep.Grid.Layers (which keeps each addition's own layer) is never every layer either.
var AllLayers = Layers{{All: true}}

// Resolve returns the layer to steer in a model of nLayer layers, or an error when it does not
// exist there.
func (l Layer) Resolve(nLayer int) (int, error) {
	switch {
	case l.All:
		return 0, fmt.Errorf("experiments: \"all\" is every layer, not one: give one layer (6, or 16/48 scaled to the model)")
	case l.Of < 0 || l.At < 0 || (l.Of > 0 && l.At >= l.Of):
		return 0, fmt.Errorf("experiments: layer %s: give a layer number (6) or a layer of a deeper model to scale (16/48, with 16 < 48)", l)
	case l.Of > 0:
		// At·nLayer/Of in 128 bits (math/bits), so that a large At cannot overflow: with
		// At < Of the quotient is below nLayer.
		hi, lo := bits.Mul64(uint64(l.At), uint64(max(nLayer, 0)))
		q, _ := bits.Div64(hi, lo, uint64(l.Of))
		return int(q), nil
	case l.At >= nLayer:
		return 0, fmt.Errorf("experiments: layer %d is out of range for a model with %d layers: use 0..%d, or a scaled layer such as 16/48", l.At, nLayer, nLayer-1)
	}
	return l.At, nil
}

// String is "6", "16/48", or "all".
func (l Layer) String() string {
	if l.All {
		return "all"
	}
	if l.Of > 0 {
		return fmt.Sprintf("%d/%d", l.At, l.Of)
	}
	return strconv.Itoa(l.At)
}

// ParseLayer reads "6", "16/48", or "all" (in a list of layers: every layer).
func ParseLayer(s string) (Layer, error) {
	if strings.TrimSpace(s) == "all" {
		return Layer{All: true}, nil
	}
	at, of, scaled := strings.Cut(strings.TrimSpace(s), "/")
	var l Layer
	var err1, err2 error
	l.At, err1 = strconv.Atoi(strings.TrimSpace(at))
	if scaled {
		l.Of, err2 = strconv.Atoi(strings.TrimSpace(of))
	}
	if err1 != nil || err2 != nil || l.At < 0 || (scaled && (l.Of <= 0 || l.At >= l.Of)) {
		return Layer{}, fmt.Errorf("experiments: layer %q: give a layer number (6) or a layer of a deeper model to scale to this one (16/48: layer 16 of 48)", s)
	}
	return l, nil
}

// MarshalText writes the layer as String does (configs in JSON sidecars read "16/48").
func (l Layer) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads what ParseLayer reads.
func (l *Layer) UnmarshalText(b []byte) error {
	v, err := ParseLayer(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Set implements flag.Value, so that a Layer can be a flag of its own.
func (l *Layer) Set(s string) error { return l.UnmarshalText([]byte(s)) }

// Layers is a list of layers; as text, a comma-separated list such as "0, 6, 16/48", or "all"
// (AllLayers), where "" (or only spaces) is nil: no layer.
type Layers []Layer

// ParseLayers reads a comma-separated list of layers such as "0, 6,16/48", or "all": "" (or only
// spaces) is nil; empty items are skipped; a list with separators but no layer (",") is an
// error, as is "all" with other layers.
func ParseLayers(s string) (Layers, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out Layers
	for _, f := range splitList(s) {
		l, err := ParseLayer(f)
		if err != nil {
			return nil, fmt.Errorf("experiments: layers %q: %q is not a layer (6, or 16/48 for layer 16 of 48 scaled to the model)", s, f)
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("experiments: layers %q names no layer: give e.g. \"0,6,12\", or \"all\"", s)
	}
	if err := out.checkAll(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkAll rejects "all" beside other layers.
func (ls Layers) checkAll() error {
	if len(ls) > 1 && slices.ContainsFunc(ls, func(l Layer) bool { return l.All }) {
		return fmt.Errorf("experiments: layers %q: \"all\" already holds every layer: give it alone, or list the layers", ls)
	}
	return nil
}

// Resolve resolves every layer for a model of nLayer layers; AllLayers is all of them,
// 0 … nLayer−1. An empty list (nil included) is an error: it names no layer.
func (ls Layers) Resolve(nLayer int) ([]int, error) {
	if len(ls) == 0 {
		return nil, fmt.Errorf("experiments: the list of layers is empty: give at least one layer, or experiments.AllLayers (\"all\") for all %d", nLayer)
	}
	if err := ls.checkAll(); err != nil {
		return nil, err
	}
	if ls[0].All {
		out := make([]int, max(nLayer, 0))
		for l := range out {
			out[l] = l
		}
		return out, nil
	}
	out := make([]int, len(ls))
	for i, l := range ls {
		var err error
		if out[i], err = l.Resolve(nLayer); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// String is the comma-separated list ParseLayers reads.
func (ls Layers) String() string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.String()
	}
	return strings.Join(parts, ",")
}

// MarshalText writes the list as String does.
func (ls Layers) MarshalText() ([]byte, error) { return []byte(ls.String()), nil }

// UnmarshalText reads what ParseLayers reads.
func (ls *Layers) UnmarshalText(b []byte) error {
	v, err := ParseLayers(string(b))
	if err != nil {
		return err
	}
	*ls = v
	return nil
}

// splitList splits a comma-separated list, trimming spaces around items and dropping empty ones.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// LayerFlag defines a Layer flag on fs with a default value (e.g. Layer{At: 6, Of: 48}) and
// returns where its value is stored; the flag reads "6" or "16/48".
func LayerFlag(fs *flag.FlagSet, name string, value Layer, usage string) *Layer {
	l := value
	fs.Var(&l, name, usage)
	return &l
}
