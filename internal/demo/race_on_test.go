//go:build race

package demo

// raceEnabled is true when the race detector is on: it slows the replay
// five to ten times, and the loop's monitor windows run on wall time.
const raceEnabled = true
