package experiments

// Internals exposed to the external tests.
var (
	LAMAProbesWith        = lamaProbes
	OpenWebTextSampleWith = openWebTextSample
)
