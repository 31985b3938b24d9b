//go:build !(((linux && (amd64 || arm64)) || (darwin && arm64) || (windows && amd64)) && cgo && !noxla)

package backend

import (
	"errors"

	"github.com/gomlx/compute"
)

// xlaCompiled reports whether this build includes the XLA backend: it does not (no cgo, an
// unsupported platform, or build tag noxla).
const xlaCompiled = false

func disableXLAAutoInstall() {}

func availablePlugins() []string { return nil }

func ensurePlugin(string, func(string) (string, bool)) error {
	return errors.New("this binary was built without the XLA backend (it needs cgo; build tag noxla removes it)")
}

func describeXLA(compute.Backend) (string, bool) { return "", false }

func pluginPath(compute.Backend) string { return "" }

func usesTF32(compute.Backend) bool { return false }

func cudaPluginFile(string) string { return "" }
