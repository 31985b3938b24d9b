// Package abba interleaves the two arms of an A/B timing in ABBA order, the order every premium
// measurement of the project uses (steering ops alone, E4, make bench, the Go benchmarks).
package abba

// Pair runs rep i of an ABBA interleaving of a and b: a then b when i is even, b then a when i
// is odd, so that neither arm always runs first and a linear drift of the machine's speed
// affects both alike. It returns a's and b's results, and stops at the first error.
func Pair[T any](i int, a, b func() (T, error)) (ra, rb T, err error) {
	if i%2 == 0 {
		if ra, err = a(); err == nil {
			rb, err = b()
		}
		return ra, rb, err
	}
	if rb, err = b(); err == nil {
		ra, err = a()
	}
	return ra, rb, err
}
