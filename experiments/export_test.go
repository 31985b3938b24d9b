package experiments

import "github.com/actadd-go/actadd/internal/shareddata"

// Internals exposed to the external tests.
var (
	LAMAProbesWith = lamaProbes
	SharedDataPath = shareddata.Path
)
