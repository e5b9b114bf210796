package gbdt_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/gbdt"
)

// Train on a CSV with a categorical column, save the model, load it back
// and score a serving request encoded with the schema stored in the model,
// so "card" maps to the same code it had in training.
func Example() {
	var csv strings.Builder
	csv.WriteString("amount,channel,fraud\n")
	for i := range 400 {
		channel, fraud := "card", 0
		if i%4 == 0 {
			channel = "wire"
		}
		if channel == "wire" && i%8 == 0 {
			fraud = 1
		}
		fmt.Fprintf(&csv, "%d,%s,%d\n", i%50, channel, fraud)
	}
	table, enc, err := frame.ReadCSV(strings.NewReader(csv.String()), frame.CSVOptions{})
	if err != nil {
		panic(err)
	}
	y, _ := table.Column("fraud")
	x, _ := table.Drop("fraud")
	p := gbdt.DefaultParams()
	p.NumRounds = 20
	m, err := gbdt.Train(context.Background(), gbdt.Data{X: x, Y: y, Schema: enc.Fields()[:2]}, nil, p)
	if err != nil {
		panic(err)
	}
	var file bytes.Buffer
	if err := m.Save(&file, artifact.Header{}); err != nil {
		panic(err)
	}
	served, _, err := gbdt.Load(&file, artifact.Limits{})
	if err != nil {
		panic(err)
	}
	serving, _ := frame.NewEncoder(served.Schema())
	row, _ := serving.EncodeRow([]string{"16", "wire"}, nil)
	pWire, _ := served.PredictRow(row, gbdt.OutputValue)
	row, _ = serving.EncodeRow([]string{"16", "card"}, row)
	pCard, _ := served.PredictRow(row, gbdt.OutputValue)
	fmt.Printf("wire riskier than card: %v\n", pWire > pCard+0.3 && pCard < 0.05)
	// Output: wire riskier than card: true
}
