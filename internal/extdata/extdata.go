// Package extdata gives tests the real data that is too large, or under a licence too
// restrictive, to ship in the repository: the full OpenWebText sample, LAMA records, and so on.
// It is named by $ACTADD_TEST_DATA, a folder laid out as
//
//	openwebtext-sample/owt1000.jsonl       the first 1,000 documents of stas/openwebtext-10k
//	lama-conceptnet/test.head5.jsonl       the first 5 records of LAMA's ConceptNet test.jsonl
//
// Tests that need it skip, saying how to run them, when the variable is unset. Only tests
// import this package.
package extdata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the folder of extra test data.
const EnvVar = "ACTADD_TEST_DATA"

// Path returns the file elem (a path inside $ACTADD_TEST_DATA). It skips the test, with a line
// naming the file it needs, when the variable is unset or the file is not there.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	rel := filepath.Join(elem...)
	dir := os.Getenv(EnvVar)
	if dir == "" {
		t.Skipf("needs %s: set %s to a folder holding it to run this test", rel, EnvVar)
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("needs %s, which %s=%s does not hold (%v)", rel, EnvVar, dir, err)
	}
	return p
}
