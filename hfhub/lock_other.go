//go:build !unix

package hfhub

import "os"

// lockFile is a no-op where flock is missing: downloads are serialized within the process only.
func lockFile(*os.File) (waited bool, err error) { return false, nil }

func unlockFile(*os.File) {}
