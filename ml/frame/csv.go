package frame

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/plinthai/plinth/ml/artifact"
)

// DefaultMaxCSVCells bounds how many cells ReadCSV accepts unless told
// otherwise: 200 million, about the size of a 1,000,000 × 200 table.
const DefaultMaxCSVCells = 200_000_000

// CSVOptions controls ReadCSV. The zero value reads a comma-separated file
// with a header line and infers every column's type.
type CSVOptions struct {
	// Comma is the field separator; 0 means ','.
	Comma rune
	// NoHeader says the first line is data. Names must then name the columns.
	NoHeader bool
	// Names, when set, names the columns (replacing the header's names).
	Names []string
	// Categorical lists columns to encode as categories even if every cell
	// parses as a number (codes, zip codes, years used as labels).
	Categorical []string
	// Encoder, when set, fixes the schema: the file's columns must be exactly
	// the encoder's (by name, in any order), and cells are coded with it, so
	// a test or serving file is encoded as the training file was. Unseen
	// categories become NaN.
	Encoder *Encoder
	// MaxCells bounds rows × columns; 0 means DefaultMaxCSVCells.
	MaxCells int
}

// ReadCSV reads a CSV table, gzip-compressed or plain (detected from the
// first bytes), into a Frame and the Encoder that coded it. A UTF-8 byte
// order mark is dropped. Column types are inferred unless opt.Encoder is
// set: a column whose every non-missing cell is a number is "float" (or
// "int" when all are integers), any other is "category" with its distinct
// values as categories in sorted order. Missing cells ("", "NA", "?", ...)
// become NaN.
//
// The whole table is held in memory while types are inferred; MaxCells
// bounds it. Errors name the line and column at fault.
func ReadCSV(r io.Reader, opt CSVOptions) (*Frame, *Encoder, error) {
	recs, names, err := readRecords(r, opt)
	if err != nil {
		return nil, nil, err
	}
	enc := opt.Encoder
	if enc == nil {
		enc, err = inferEncoder(names, recs, opt.Categorical)
		if err != nil {
			return nil, nil, err
		}
	}
	return encodeRecords(enc, names, recs)
}

// readRecords decompresses if needed and returns the data records and the
// column names.
func readRecords(r io.Reader, opt CSVOptions) ([][]string, []string, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	src := io.Reader(br)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("frame: read csv: gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	cr := csv.NewReader(stripBOM(src))
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	cr.ReuseRecord = false
	maxCells := opt.MaxCells
	if maxCells <= 0 {
		maxCells = DefaultMaxCSVCells
	}
	var names []string
	if !opt.NoHeader {
		hdr, err := cr.Read()
		if err != nil {
			return nil, nil, fmt.Errorf("frame: read csv header: %w", err)
		}
		names = hdr
	}
	if opt.Names != nil {
		if names != nil && len(opt.Names) != len(names) {
			return nil, nil, fmt.Errorf("%w: %d names given for %d columns", ErrShape, len(opt.Names), len(names))
		}
		names = slices.Clone(opt.Names)
	}
	if names == nil {
		return nil, nil, fmt.Errorf("frame: read csv: no header and no Names")
	}
	recs, err := readBody(cr, len(names), maxCells)
	return recs, names, err
}

// readBody reads every remaining record, checking width and the cell bound.
func readBody(cr *csv.Reader, width, maxCells int) ([][]string, error) {
	var recs [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("frame: read csv: %w", err)
		}
		if len(rec) != width {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("%w: csv line %d has %d fields, want %d", ErrShape, line, len(rec), width)
		}
		if (len(recs)+1)*width > maxCells {
			return nil, fmt.Errorf("frame: read csv: more than %d cells", maxCells)
		}
		recs = append(recs, rec)
	}
}

// stripBOM drops a leading UTF-8 byte order mark.
func stripBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		br.Discard(3)
	}
	return br
}

// inferEncoder chooses each column's type from its cells.
func inferEncoder(names []string, recs [][]string, forceCat []string) (*Encoder, error) {
	fields := make([]artifact.Field, len(names))
	for j, name := range names {
		fields[j] = inferField(name, recs, j, slices.Contains(forceCat, name))
	}
	return NewEncoder(fields)
}

// inferField types column j: numeric when every non-missing cell parses.
func inferField(name string, recs [][]string, j int, forceCat bool) artifact.Field {
	numeric, integral := !forceCat, true
	for _, rec := range recs {
		if !numeric {
			break
		}
		s := rec[j]
		if isMissing(s) {
			continue
		}
		v, err := parseNumber(s)
		if err != nil {
			numeric = false
			break
		}
		if _, err := strconv.ParseInt(s, 10, 64); err != nil && float32(math.Trunc(float64(v))) != v {
			integral = false
		}
	}
	switch {
	case numeric && integral:
		return artifact.Field{Name: name, Type: TypeInt}
	case numeric:
		return artifact.Field{Name: name, Type: TypeFloat}
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		if s := rec[j]; !isMissing(s) {
			seen[s] = true
		}
	}
	cats := make([]string, 0, len(seen))
	for c := range seen {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	return artifact.Field{Name: name, Type: TypeCategory, Categories: cats}
}

// encodeRecords codes the records into columns in the encoder's order.
func encodeRecords(enc *Encoder, names []string, recs [][]string) (*Frame, *Encoder, error) {
	pos, err := columnPositions(enc, names)
	if err != nil {
		return nil, nil, err
	}
	cols := make([][]float32, len(pos))
	for j := range cols {
		cols[j] = make([]float32, len(recs))
	}
	for i, rec := range recs {
		for j, p := range pos {
			v, err := enc.Encode(j, rec[p])
			if err != nil {
				return nil, nil, fmt.Errorf("csv data row %d: %w", i+1, err)
			}
			cols[j][i] = v
		}
	}
	f, err := New(enc.Names(), cols)
	return f, enc, err
}

// columnPositions maps each encoder column to its position in the file.
func columnPositions(enc *Encoder, names []string) ([]int, error) {
	if len(names) != len(enc.fields) {
		return nil, fmt.Errorf("%w: file has %d columns %v, schema has %d %v",
			ErrShape, len(names), names, len(enc.fields), enc.Names())
	}
	pos := make([]int, len(enc.fields))
	for j, f := range enc.fields {
		p := slices.Index(names, f.Name)
		if p < 0 {
			return nil, fmt.Errorf("%w: schema column %q not in file columns %v", ErrShape, f.Name, names)
		}
		pos[j] = p
	}
	return pos, nil
}
