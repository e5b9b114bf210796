package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
)

// Batching of `plinth events send`.
const (
	// DefaultEventBatch events go in one request: well under the server's
	// default limits of 1000 events and 4 MiB a request.
	DefaultEventBatch = 500
	// eventProgressBytes is the input size from which a progress bar is
	// worth drawing.
	eventProgressBytes = 1 << 20
	// maxListedRejections bounds the indexes an error message names.
	maxListedRejections = 10
)

// eventReport is what `plinth events send` prints: the totals over every
// batch, and each rejected event by its index in the input.
type eventReport struct {
	Stream     string             `json:"stream"`
	Events     int                `json:"events"`
	Accepted   int                `json:"accepted"`
	Duplicates int                `json:"duplicates"`
	Rejected   []client.Rejection `json:"rejected"`
}

func eventsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Send events to an ingest stream"}
	var file string
	var batch int
	send := &cobra.Command{
		Use:   "send STREAM",
		Short: "Send events from a file or stdin: one JSON object, a JSON array, or NDJSON",
		Long: `Send events to a stream declared in the server's streams file. The input (--file,
or stdin with - or no --file) holds one JSON event, a JSON array of events, or
one event per line (NDJSON); it is sent in batches of --batch events, with a
progress bar for large files. The command prints how many events were accepted
and how many were duplicates of events already ingested, and a table of every
rejected event by its index in the input (from 0) with the field and the
reason; it fails when any event was rejected.`,
		Example: "  plinth events send transactions --file transactions.ndjson\n  echo '{\"txn_id\":\"t1\",\"card_id\":\"c1\",\"ts\":\"2024-05-01T12:00:00Z\",\"amount\":4.5}' | plinth events send transactions",
		Args:    cobra.ExactArgs(1),
		RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
			if batch < 1 {
				return fmt.Errorf("--batch %d: want at least 1", batch)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			rep, err := sendEvents(cmd, c, args[0], file, batch)
			if err != nil {
				return err
			}
			if err := g.printEventReport(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
			return rejectedOutcome(rep)
		}),
	}
	send.Flags().StringVarP(&file, "file", "f", "-", "events file: JSON, a JSON array, or NDJSON; - reads stdin")
	send.Flags().IntVar(&batch, "batch", DefaultEventBatch, "events per request")
	_ = send.MarkFlagFilename("file", "json", "ndjson", "jsonl")
	cmd.AddCommand(send)
	return cmd
}

// sendEvents reads events from file and sends them in batches, adding up
// the reports. A batch whose every event was rejected is reported, not an
// error; any other failure stops the command, saying how far it got.
func sendEvents(cmd *cobra.Command, c *client.Client, stream, file string, batch int) (eventReport, error) {
	in, size, closeIn, err := openEvents(cmd, file)
	if err != nil {
		return eventReport{}, err
	}
	defer closeIn()
	var bar *progressbar.ProgressBar
	if size >= eventProgressBytes {
		bar = progressbar.NewOptions64(size, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("sending "+file), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
		r := progressbar.NewReader(in, bar)
		in = &r
		defer func() { _ = bar.Finish() }()
	}
	rep := eventReport{Stream: stream, Rejected: []client.Rejection{}}
	events := newEventDecoder(in)
	buf := make([]json.RawMessage, 0, batch)
	for {
		ev, err := events.next()
		if err != nil && !errors.Is(err, io.EOF) {
			return rep, fmt.Errorf("%s: event %d: %w%s", file, rep.Events+len(buf), err, sentSoFar(rep))
		}
		if ev != nil {
			buf = append(buf, ev)
		}
		if len(buf) == batch || (errors.Is(err, io.EOF) && len(buf) > 0) {
			if err := sendBatch(cmd, c, &rep, buf, batch); err != nil {
				return rep, err
			}
			buf = buf[:0]
		}
		if errors.Is(err, io.EOF) && rep.Events == 0 {
			return rep, fmt.Errorf("%s: no events: want one JSON event, a JSON array of events, or NDJSON", file)
		}
		if errors.Is(err, io.EOF) {
			return rep, nil
		}
	}
}

// openEvents opens file ("-": stdin) and returns its size (-1 when unknown).
func openEvents(cmd *cobra.Command, file string) (io.Reader, int64, func(), error) {
	if file == "-" || file == "" {
		return cmd.InOrStdin(), -1, func() {}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("--file: %w", err)
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, func() { f.Close() }, nil
}

// sendBatch sends one batch and adds its report to rep, shifting the
// indexes of its rejections to their place in the input.
func sendBatch(cmd *cobra.Command, c *client.Client, rep *eventReport, batch []json.RawMessage, size int) error {
	res, err := c.SendEvents(cmd.Context(), rep.Stream, batch)
	if err != nil && !(client.IsStatus(err, http.StatusBadRequest) && len(res.Rejected) > 0) {
		return fmt.Errorf("%w%s%s", err, sentSoFar(*rep), batchHint(err, size))
	}
	for _, r := range res.Rejected {
		r.Index += rep.Events
		rep.Rejected = append(rep.Rejected, r)
	}
	rep.Events += len(batch)
	rep.Accepted += res.Accepted
	rep.Duplicates += res.Duplicates
	return nil
}

func sentSoFar(rep eventReport) string {
	if rep.Events == 0 {
		return ""
	}
	return fmt.Sprintf("\n  → the %d events before were sent (%d accepted); events are deduplicated by their id field, so sending the file again is safe",
		rep.Events, rep.Accepted)
}

func batchHint(err error, size int) string {
	switch {
	case client.IsStatus(err, http.StatusRequestEntityTooLarge):
		return fmt.Sprintf("\n  → send smaller batches: --batch %d", max(1, size/2))
	case client.IsStatus(err, http.StatusNotFound):
		return "\n  → is the stream declared in the server's streams file (--ingest.streams-file)?"
	}
	return ""
}

func rejectedOutcome(rep eventReport) error {
	n := len(rep.Rejected)
	if n == 0 {
		return nil
	}
	idx := make([]string, 0, min(n, maxListedRejections))
	for _, r := range rep.Rejected[:min(n, maxListedRejections)] {
		idx = append(idx, strconv.Itoa(r.Index))
	}
	more := ""
	if n > maxListedRejections {
		more = fmt.Sprintf(" and %d more", n-maxListedRejections)
	}
	return fmt.Errorf("%d of %d events were rejected (index %s%s)\n  → fix those events (see the field and reason of each) and send them again",
		n, rep.Events, strings.Join(idx, ", "), more)
}

func (g *globals) printEventReport(w io.Writer, rep eventReport) error {
	row := []string{rep.Stream, strconv.Itoa(rep.Events), strconv.Itoa(rep.Accepted), strconv.Itoa(rep.Duplicates), strconv.Itoa(len(rep.Rejected))}
	err := g.print(w, rep, []string{"STREAM", "EVENTS", "ACCEPTED", "DUPLICATES", "REJECTED"}, [][]string{row})
	if err != nil || g.output == OutputJSON || len(rep.Rejected) == 0 {
		return err
	}
	rows := make([][]string, 0, len(rep.Rejected))
	for _, r := range rep.Rejected {
		reason := r.Reason
		if r.Retryable {
			reason += " (retryable: send it again)"
		}
		rows = append(rows, []string{strconv.Itoa(r.Index), r.Field, reason})
	}
	fmt.Fprintln(w)
	return g.print(w, nil, []string{"INDEX", "FIELD", "REASON"}, rows)
}

// eventDecoder reads events one at a time from one JSON object, a JSON
// array of objects, or a sequence of objects (NDJSON), without holding the
// whole input in memory.
type eventDecoder struct {
	in      *bufio.Reader
	dec     *json.Decoder
	started bool
	array   bool
}

func newEventDecoder(r io.Reader) *eventDecoder {
	return &eventDecoder{in: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next event, or io.EOF after the last.
func (d *eventDecoder) next() (json.RawMessage, error) {
	if !d.started {
		d.started = true
		if err := d.start(); err != nil {
			return nil, err
		}
	}
	if d.array && !d.dec.More() {
		if _, err := d.dec.Token(); err != nil { // the closing ]
			return nil, unexpectedEOF(err)
		}
		if d.dec.More() {
			return nil, errors.New("data after the JSON array")
		}
		return nil, io.EOF
	}
	var ev json.RawMessage
	if err := d.dec.Decode(&ev); err != nil {
		if d.array {
			return nil, unexpectedEOF(err)
		}
		return nil, err
	}
	if ev[0] != '{' {
		return nil, errors.New("want a JSON object")
	}
	return ev, nil
}

// start tells an array from objects by the first byte that is not space,
// and consumes the [ of an array.
func (d *eventDecoder) start() error {
	d.dec = json.NewDecoder(d.in)
	for {
		b, err := d.in.ReadByte()
		if err != nil {
			return err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		if err := d.in.UnreadByte(); err != nil {
			return err
		}
		if d.array = b == '['; d.array {
			_, err = d.dec.Token()
		}
		return err
	}
}

// unexpectedEOF turns the end of the input inside an array into an error.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
