package fraud

import (
	"fmt"
	"io"
	"slices"

	"github.com/plinthai/plinth/ml/frame"
)

// The public ULB / Worldline credit-card data set (Kaggle mlg-ulb/creditcardfraud):
// 284,807 transactions over two days of September 2013, 492 frauds.
const (
	// ULBURL is a public copy of creditcard.csv (the one TensorFlow's
	// imbalanced-data tutorial downloads).
	ULBURL = "https://storage.googleapis.com/download.tensorflow.org/data/creditcard.csv"
	// ULBSHA256 and ULBSize identify the canonical file.
	ULBSHA256 = "76274b691b16a6c49d3f159c883398e03ccd6d1ee12d9d8ee38f4b4b98551a89"
	ULBSize   = 150_828_752
	// ULBFile is the file name under the data directory.
	ULBFile = "creditcard.csv"
	// ULBTerms is shown before downloading.
	ULBTerms = `ULB credit card fraud data (Machine Learning Group, Universite Libre de Bruxelles, with Worldline).
Terms as published on Kaggle: Open Database License (ODbL) 1.0 for the database, Database Contents
License (DbCL) 1.0 for its contents. Please cite: A. Dal Pozzolo, O. Caelen, R. A. Johnson and
G. Bontempi, "Calibrating Probability with Undersampling for Unbalanced Classification", IEEE CIDM 2015.`
)

// ULB is the ULB data set (or its published sample) as a frame of
// Time, V1…V28, Amount, sorted by Time, with the Class labels.
type ULB struct {
	X *frame.Frame
	Y []float32
}

// LoadULB reads creditcard.csv or its gzip-compressed sample, stable-sorted
// by Time as the product replays it.
func LoadULB(r io.Reader) (*ULB, error) {
	f, _, err := frame.ReadCSV(r, frame.CSVOptions{})
	if err != nil {
		return nil, fmt.Errorf("read ULB data: %w", err)
	}
	ti, ci := f.Index("Time"), f.Index("Class")
	if ti < 0 || ci < 0 || f.NumCols() != 31 {
		return nil, fmt.Errorf("read ULB data: want 31 columns with Time and Class, got %d: %v", f.NumCols(), f.Names)
	}
	order := make([]int, f.NumRows())
	for i := range order {
		order[i] = i
	}
	times := f.Cols[ti]
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case times[a] < times[b]:
			return -1
		case times[a] > times[b]:
			return 1
		}
		return 0
	})
	sorted, err := f.Take(order)
	if err != nil {
		return nil, err
	}
	y := slices.Clone(sorted.Cols[ci])
	x, err := sorted.Drop("Class")
	if err != nil {
		return nil, err
	}
	return &ULB{X: x, Y: y}, nil
}
