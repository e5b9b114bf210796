package demo

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Status is what the view shows: the current phase with its progress,
// and lines of live figures.
type Status struct {
	Phase    string
	Progress float64 // of the phase, in [0, 1]
	Lines    []string
}

// view renders Status: redrawn in place every 250 ms on a terminal, or
// as timestamped log lines (phase changes, events, and the figures every
// few seconds) otherwise. Its methods are safe for concurrent use.
type view struct {
	out   io.Writer
	live  bool
	start time.Time

	mu      sync.Mutex
	status  Status
	events  []string // the latest events, newest last
	drawn   int      // lines drawn by the last redraw
	lastLog time.Time
	stop    chan struct{}
	done    chan struct{}
}

const (
	redrawEvery = 250 * time.Millisecond
	logEvery    = 5 * time.Second
	keepEvents  = 6
	barWidth    = 30
)

func newView(out io.Writer, live bool) *view {
	v := &view{out: out, live: live, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go v.loop()
	return v
}

func (v *view) loop() {
	defer close(v.done)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			v.draw(true)
			return
		case <-t.C:
			v.draw(false)
		}
	}
}

// Close draws the last frame and stops redrawing.
func (v *view) Close() {
	close(v.stop)
	<-v.done
}

// Set replaces the status.
func (v *view) Set(s Status) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s.Phase != v.status.Phase && !v.live {
		fmt.Fprintf(v.out, "%s phase %s\n", v.stamp(), s.Phase)
	}
	v.status = s
}

// Event records something that happened (a version registered, a rollout
// moved).
func (v *view) Event(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.events = append(v.events, fmt.Sprintf("%6.1fs %s", time.Since(v.start).Seconds(), msg))
	if len(v.events) > keepEvents {
		v.events = v.events[len(v.events)-keepEvents:]
	}
	if !v.live {
		fmt.Fprintf(v.out, "%s %s\n", v.stamp(), msg)
	}
}

func (v *view) stamp() string { return time.Now().UTC().Format("15:04:05.000") }

func (v *view) draw(final bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.live {
		if final || time.Since(v.lastLog) >= logEvery {
			v.lastLog = time.Now()
			for _, l := range v.status.Lines {
				fmt.Fprintf(v.out, "%s   %s\n", v.stamp(), strings.TrimSpace(l))
			}
		}
		return
	}
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn) // back to the top of the block
	}
	lines := v.frame()
	for _, l := range lines {
		b.WriteString("\x1b[2K" + l + "\n")
	}
	v.drawn = len(lines)
	_, _ = io.WriteString(v.out, b.String())
}

// frame is the block of lines of the live view.
func (v *view) frame() []string {
	s := v.status
	lines := []string{
		fmt.Sprintf("plinth demo · %5.1fs · phase %-14s %s", time.Since(v.start).Seconds(), s.Phase, bar(s.Progress)),
		"",
	}
	lines = append(lines, s.Lines...)
	lines = append(lines, "", "events:")
	lines = append(lines, v.events...)
	for len(lines) < 12+keepEvents {
		lines = append(lines, "")
	}
	return lines
}

// bar draws a progress bar of p in [0, 1].
func bar(p float64) string {
	p = min(max(p, 0), 1)
	n := int(p * barWidth)
	return "[" + strings.Repeat("█", n) + strings.Repeat("·", barWidth-n) + fmt.Sprintf("] %3.0f%%", p*100)
}
