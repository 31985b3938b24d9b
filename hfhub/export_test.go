package hfhub

import "time"

// SetWatchForTest shortens the download watchdog's stall time and rate window, and the grace
// given to a cancelled download, for the external tests; the returned function restores them.
func SetWatchForTest(stall, window, grace, tick time.Duration) (restore func()) {
	saved, savedGrace, savedTick := watchLimits, abandonGrace, watchTick
	watchLimits.Stall, watchLimits.Window, abandonGrace, watchTick = stall, window, grace, tick
	return func() { watchLimits, abandonGrace, watchTick = saved, savedGrace, savedTick }
}
