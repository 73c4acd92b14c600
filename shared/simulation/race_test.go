//go:build race

package simulation

// raceEnabled: the race detector slows the simulations five to ten times.
const raceEnabled = true
