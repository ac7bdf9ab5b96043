// Package sheet keeps CSV downloads safe to open in a spreadsheet: a cell
// that begins like a formula is read as text.
package sheet

import "strings"

// Safe prefixes with an apostrophe every cell of rec that a spreadsheet
// would read as a formula (=, +, -, @, tab, carriage return), in place,
// and returns rec.
func Safe(rec []string) []string {
	for i, v := range rec {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			rec[i] = "'" + v
		}
	}
	return rec
}
