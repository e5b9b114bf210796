package frame

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/ml/artifact"
)

// Column types, as stored in artifact.Field.Type.
const (
	TypeFloat    = "float"
	TypeInt      = "int"
	TypeBool     = "bool"
	TypeCategory = "category"
)

// ErrValue is wrapped by errors about a cell that cannot be encoded.
var ErrValue = errors.New("frame: bad value")

// Encoder turns text cells into float32 codes according to a fixed schema.
// The same Encoder (or one rebuilt from its Fields) must be used at training
// and at serving so that a category always maps to the same code: category
// i of a column is encoded as float32(i), in the order of Field.Categories.
//
// An Encoder is immutable after construction and safe for concurrent use.
type Encoder struct {
	fields []artifact.Field
	codes  []map[string]int // per column; nil for non-categorical columns
}

// NewEncoder builds an encoder for fields. It copies fields and refuses a
// categorical field with duplicate categories or an unknown type.
func NewEncoder(fields []artifact.Field) (*Encoder, error) {
	e := &Encoder{fields: make([]artifact.Field, len(fields)), codes: make([]map[string]int, len(fields))}
	for j, f := range fields {
		switch f.Type {
		case TypeFloat, TypeInt, TypeBool:
		case TypeCategory:
			m := make(map[string]int, len(f.Categories))
			for i, c := range f.Categories {
				if _, dup := m[c]; dup {
					return nil, fmt.Errorf("frame: encoder: column %q lists category %q twice", f.Name, c)
				}
				m[c] = i
			}
			e.codes[j] = m
		default:
			return nil, fmt.Errorf("frame: encoder: column %q has type %q, want float, int, bool or category", f.Name, f.Type)
		}
		f.Categories = append([]string(nil), f.Categories...)
		e.fields[j] = f
	}
	return e, nil
}

// Fields returns a copy of the schema, ready to store in an artifact header.
func (e *Encoder) Fields() []artifact.Field {
	out := make([]artifact.Field, len(e.fields))
	for j, f := range e.fields {
		f.Categories = append([]string(nil), f.Categories...)
		out[j] = f
	}
	return out
}

// Names returns the column names in schema order.
func (e *Encoder) Names() []string {
	out := make([]string, len(e.fields))
	for j, f := range e.fields {
		out[j] = f.Name
	}
	return out
}

// Index returns the position of the named column, or -1.
func (e *Encoder) Index(name string) int {
	for j, f := range e.fields {
		if f.Name == name {
			return j
		}
	}
	return -1
}

// Encode returns the code of cell s in column j. An empty or missing-marker
// cell ("", "NA", "NaN", "?", "null") is NaN, and so is a category that the
// schema does not list: an unseen category at serving is treated as missing,
// never as another category's code. A numeric column holding text that does
// not parse is an error naming the column and the value.
func (e *Encoder) Encode(j int, s string) (float32, error) {
	if j < 0 || j >= len(e.fields) {
		return 0, fmt.Errorf("%w: column %d of %d", ErrValue, j, len(e.fields))
	}
	if isMissing(s) {
		return float32(math.NaN()), nil
	}
	if m := e.codes[j]; m != nil {
		if c, ok := m[s]; ok {
			return float32(c), nil
		}
		return float32(math.NaN()), nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return 0, fmt.Errorf("%w: column %q (%s): %q is not a number", ErrValue, e.fields[j].Name, e.fields[j].Type, s)
	}
	return v, nil
}

// EncodeRow encodes one record in schema order into dst (grown as needed)
// and returns it. The record must have exactly one cell per field.
func (e *Encoder) EncodeRow(rec []string, dst []float32) ([]float32, error) {
	if len(rec) != len(e.fields) {
		return dst, fmt.Errorf("%w: record has %d cells, schema has %d columns", ErrShape, len(rec), len(e.fields))
	}
	dst = dst[:0]
	for j, s := range rec {
		v, err := e.Encode(j, s)
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// isMissing reports whether s is one of the conventional missing markers.
func isMissing(s string) bool {
	switch strings.TrimSpace(s) {
	case "", "NA", "N/A", "NaN", "nan", "?", "null", "NULL":
		return true
	}
	return false
}

// parseNumber parses a float32 cell, also accepting true/false as 1/0.
func parseNumber(s string) (float32, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "true":
		return 1, nil
	case "false":
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return 0, err
	}
	return float32(v), nil
}
