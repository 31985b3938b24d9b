package explorer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A live explorer keeps the settings a person last set, so that running its cell again starts
// from them instead of the flags' defaults. They are kept in a small file in the user's cache
// folder (os.UserCacheDir()/actadd/explorer, or $ACTADD_EXPLORER_STATE), one per notebook folder and model, with the
// flags' settings of the run that wrote it: a flag changed in the cell since then wins over the
// kept value of its control (Resume).

// State is what the explorer keeps between runs of its cell.
type State struct {
	Flags Settings // the cell's settings (its flags) when the state was written
	Last  Settings // the settings of the controls
}

// Resume returns the settings a run of the cell starts from: each setting of s.Last, except
// those whose flag changed since s was written (flags differs from s.Flags there): the cell's
// new flag wins.
func (s State) Resume(flags Settings) Settings {
	return Settings{
		Plus:   pick(flags.Plus, s.Flags.Plus, s.Last.Plus),
		Minus:  pick(flags.Minus, s.Flags.Minus, s.Last.Minus),
		Prompt: pick(flags.Prompt, s.Flags.Prompt, s.Last.Prompt),
		Layer:  pick(flags.Layer, s.Flags.Layer, s.Last.Layer),
		Coeff:  pick(flags.Coeff, s.Flags.Coeff, s.Last.Coeff),
		N:      pick(flags.N, s.Flags.N, s.Last.N),
		Tokens: pick(flags.Tokens, s.Flags.Tokens, s.Last.Tokens),
		Seed:   pick(flags.Seed, s.Flags.Seed, s.Last.Seed),
		Metric: pick(flags.Metric, s.Flags.Metric, s.Last.Metric),
		Chat:   flags.Chat, // a flag only: no control sets it
	}
}

// pick is flag when it changed from was, else last.
func pick[T comparable](flag, was, last T) T {
	if flag != was {
		return flag
	}
	return last
}

// StateEnv names the environment variable that sets the folder the explorer keeps its state
// in (default: os.UserCacheDir()/actadd/explorer); "off" keeps none.
const StateEnv = "ACTADD_EXPLORER_STATE"

// StatePath is the file that keeps the explorer's state for model in the notebook folder dir,
// in the folder StateEnv names; "" when it says off.
func StatePath(dir, model string) (string, error) {
	folder := os.Getenv(StateEnv)
	switch folder {
	case "off":
		return "", nil
	case "":
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("explorer: no cache folder to keep the settings in (set $%s): %w", StateEnv, err)
		}
		folder = filepath.Join(cache, "actadd", "explorer")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + model))
	return filepath.Join(folder, hex.EncodeToString(sum[:8])+".json"), nil
}

// LoadState reads the state at path; ok is false when there is none.
func LoadState(path string) (s State, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, false, fmt.Errorf("explorer: %s is not a kept state (%v): delete it", path, err)
	}
	return s, true, nil
}

// SaveState writes s to path (a whole file or nothing: written beside it, then renamed).
func SaveState(path string, s State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
