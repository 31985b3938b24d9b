package experiments

// Internals exposed to the external tests.
var (
	LAMAProbesWith        = lamaProbes
	OpenWebTextSampleWith = openWebTextSample
)

// CheckConfig is a config's own check, which the experiment runs before any work.
func CheckConfig(c interface{ check() error }) error { return c.check() }
