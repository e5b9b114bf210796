// Package clock is the event clock a deployment can share in accelerated
// time: every process given the same --clock.sim-start, --clock.epoch and
// --clock.speed reads the same simulated time at the same wall instant,
// so a recorded or simulated stream can be replayed faster than real time
// through targets that run as separate processes (the demos' worlds, a
// backtest). Off by default: event time is the wall clock.
//
// The simulated time at wall instant w is
//
//	sim-start + (w − epoch) × speed
//
// and it never runs backwards while the wall clock does not.
package clock

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// DefaultSpeed is simulated seconds per wall second.
const DefaultSpeed = 1.0

// Config is the shared event clock (flags --clock.*).
type Config struct {
	// SimStart is the simulated time at Epoch, RFC 3339; empty turns the
	// simulated clock off.
	SimStart string `yaml:"sim-start"`
	// Epoch is the wall instant at which the clock reads SimStart, RFC
	// 3339; every process of a deployment must be given the same one.
	Epoch string `yaml:"epoch"`
	// Speed is simulated seconds per wall second.
	Speed float64 `yaml:"speed"`
}

// RegisterFlags registers the clock.* flags.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.SimStart, "clock.sim-start", "", "simulated event time at --clock.epoch (RFC 3339); empty: event time is the wall clock")
	fs.StringVar(&c.Epoch, "clock.epoch", "", "wall instant (RFC 3339) at which the simulated clock reads --clock.sim-start; the same for every process")
	fs.Float64Var(&c.Speed, "clock.speed", DefaultSpeed, "simulated seconds per wall second of the simulated clock")
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	if c.SimStart == "" {
		return nil
	}
	var errs []error
	if _, err := time.Parse(time.RFC3339Nano, c.SimStart); err != nil {
		errs = append(errs, fmt.Errorf("clock.sim-start: %q is not an RFC 3339 time", c.SimStart))
	}
	if _, err := time.Parse(time.RFC3339Nano, c.Epoch); err != nil {
		errs = append(errs, fmt.Errorf("clock.epoch: %q is not an RFC 3339 time (required with clock.sim-start)", c.Epoch))
	}
	if !(c.Speed > 0) || c.Speed > 1e7 {
		errs = append(errs, fmt.Errorf("clock.speed: want a speed in (0, 1e7], got %v", c.Speed))
	}
	return errors.Join(errs...)
}

// Func returns the clock, or nil when the simulated clock is off. wall is
// the wall clock (nil: time.Now). c must be valid.
func (c *Config) Func(wall func() time.Time) func() time.Time {
	if c.SimStart == "" {
		return nil
	}
	if wall == nil {
		wall = time.Now
	}
	start, _ := time.Parse(time.RFC3339Nano, c.SimStart)
	epoch, _ := time.Parse(time.RFC3339Nano, c.Epoch)
	return Simulated(start, epoch, c.Speed, wall)
}

// Simulated is the clock that reads start at wall instant epoch and runs
// speed times faster than wall.
func Simulated(start, epoch time.Time, speed float64, wall func() time.Time) func() time.Time {
	start = start.UTC()
	return func() time.Time {
		return start.Add(time.Duration(float64(wall().Sub(epoch)) * speed))
	}
}
