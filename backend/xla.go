//go:build ((linux && (amd64 || arm64)) || (darwin && arm64) || (windows && amd64)) && cgo && !noxla

package backend

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla" // Registers the "xla" backend (and its aliases).
	"github.com/gomlx/go-xla/installer"
	"github.com/gomlx/go-xla/pjrt"
)

// xlaCompiled reports whether this build includes the XLA backend (it needs cgo; build tag
// noxla removes it).
const xlaCompiled = true

// disableXLAAutoInstall turns off go-xla's unbounded download-on-every-start; New installs
// plugins itself, only when opted in and within a time bound.
func disableXLAAutoInstall() { xla.EnableAutoInstall(false) }

// availablePlugins lists the usable PJRT plugin names, recovering any panic in the search.
func availablePlugins() (names []string) {
	defer func() {
		if recover() != nil {
			names = nil
		}
	}()
	for name := range pjrt.AvailablePlugins() {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// hasPlugin reports whether a plugin called name (or a versioned "name_v..." one, as go-xla
// accepts) is available; name "" means any plugin.
func hasPlugin(name string) bool {
	for _, p := range availablePlugins() {
		if name == "" || p == name || strings.HasPrefix(p, name+"_v") {
			return true
		}
	}
	return false
}

// searchPathNote describes where go-xla looks for plugins.
func searchPathNote() string {
	if v, ok := os.LookupEnv(pjrt.PJRTPluginPathsEnv); ok {
		return fmt.Sprintf("%s=%q", pjrt.PJRTPluginPathsEnv, v)
	}
	return "~/.local/lib/go-xla, /usr/local/lib/go-xla, $LD_LIBRARY_PATH or /etc/ld.so.conf dirs"
}

// ensurePlugin checks that the PJRT plugin an XLA configuration asks for is installed and, if
// it is not and the user opted in (see AutoInstallEnv), installs it within the time bound.
// Absolute plugin paths are left to go-xla.
func ensurePlugin(cfg string, lookup func(string) (string, bool)) error {
	_, rest, _ := strings.Cut(cfg, ":")
	name, _, _ := strings.Cut(rest, ",")
	if filepath.IsAbs(name) || hasPlugin(name) {
		return nil
	}
	what := "no PJRT plugin"
	if name != "" {
		what = fmt.Sprintf("no PJRT plugin %q", name)
	}
	bound, why := autoInstallBound(lookup)
	if bound == 0 {
		return fmt.Errorf("%s in %s; %s", what, searchPathNote(), why)
	}
	if err := boundedInstall(bound); err != nil {
		return fmt.Errorf("%s installed, and auto-install failed: %v", what, err)
	}
	if !hasPlugin(name) {
		return fmt.Errorf("%s found in %s even after auto-install", what, searchPathNote())
	}
	return nil
}

// boundedInstall runs go-xla's installer (CPU plugin, plus CUDA when a GPU is present) if
// its download hosts answer a short probe, and gives up after bound. The installer's HTTP
// calls cannot be cancelled: an abandoned install goes on in the background until it ends or
// the program exits.
func boundedInstall(bound time.Duration) error {
	hosts := []string{"https://api.github.com/"}
	if installer.HasNvidiaGPU() {
		hosts = append(hosts, "https://pypi.org/")
	}
	for _, h := range hosts {
		if err := probe(h); err != nil {
			return fmt.Errorf("download host unreachable: %v", err)
		}
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v", r)
			}
		}()
		done <- installer.AutoInstall("", true, installer.Quiet)
	}()
	timer := time.NewTimer(bound)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("did not finish within %v (abandoned)", bound)
	}
}

// probe sends a HEAD request with a short timeout; any HTTP answer counts as reachable.
func probe(url string) error {
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return errors.New("http.DefaultTransport is not an *http.Transport")
	}
	tr = tr.Clone()
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: probeTimeout, Transport: tr}
	resp, err := client.Head(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// describeXLA returns "xla:cuda", "xla:cpu" or "xla:<plugin>" for a go-xla backend.
func describeXLA(b compute.Backend) (string, bool) {
	xb, ok := b.(*xla.Backend)
	if !ok {
		return "", false
	}
	name := xb.PluginName()
	switch {
	case pjrt.IsCUDAName(name):
		return "xla:cuda", true
	case strings.Contains(strings.ToUpper(name), "CPU"):
		return "xla:cpu", true
	}
	base := filepath.Base(name)
	base = strings.TrimPrefix(base, "pjrt_c_api_")
	base = strings.TrimSuffix(base, filepath.Ext(base))
	base = strings.TrimSuffix(base, "_plugin")
	return "xla:" + base, true
}

// usesTF32 reports whether b is a go-xla backend whose float32 matmuls run in TF32.
func usesTF32(b compute.Backend) bool {
	xb, ok := b.(*xla.Backend)
	return ok && xb.DotGeneralUseTF32
}

// pluginPath returns the file the PJRT plugin of a go-xla backend was loaded from, or "".
func pluginPath(b compute.Backend) (path string) {
	defer func() {
		if recover() != nil {
			path = ""
		}
	}()
	xb, ok := b.(*xla.Backend)
	if !ok {
		return ""
	}
	p, err := pjrt.GetPlugin(xb.PluginName())
	if err != nil {
		return ""
	}
	return p.Path()
}

// cudaPluginFile returns the file of the CUDA PJRT plugin an XLA configuration will load, or
// "" when it asks for another plugin, none is installed or no NVIDIA GPU is present.
func cudaPluginFile(cfg string) (path string) {
	defer func() {
		if recover() != nil {
			path = ""
		}
	}()
	if !installer.HasNvidiaGPU() {
		return ""
	}
	_, rest, _ := strings.Cut(cfg, ":")
	name, _, _ := strings.Cut(rest, ",")
	if filepath.IsAbs(name) {
		if pjrt.IsCUDAName(name) {
			return name
		}
		return ""
	}
	plugins := pjrt.AvailablePlugins()
	names := make([]string, 0, len(plugins))
	for n := range plugins {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if pjrt.IsCUDAName(n) && (name == "" || n == name || strings.HasPrefix(n, name+"_v")) {
			return plugins[n]
		}
	}
	return ""
}
