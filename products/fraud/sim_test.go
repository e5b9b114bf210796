package fraud

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func collect(t *testing.T, cfg Config, d time.Duration) ([]Transaction, []Label) {
	t.Helper()
	s, err := NewSimulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	end := s.cfg.Start.Add(d)
	var txs []Transaction
	var labels []Label
	last := time.Time{}
	for {
		ev := s.Next()
		if ev.Time().Before(last) {
			t.Fatalf("event at %v after one at %v: not in time order", ev.Time(), last)
		}
		last = ev.Time()
		if last.After(end) {
			return txs, labels
		}
		if ev.Tx != nil {
			txs = append(txs, *ev.Tx)
		} else {
			labels = append(labels, *ev.Label)
		}
	}
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Customers: 200, Merchants: 40}
	a, la := collect(t, cfg, 48*time.Hour)
	b, lb := collect(t, cfg, 48*time.Hour)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different transactions:\n%s", diff)
	}
	if diff := cmp.Diff(la, lb); diff != "" {
		t.Errorf("same seed, different labels:\n%s", diff)
	}
	c, _ := collect(t, Config{Seed: 8, Customers: 200, Merchants: 40}, 48*time.Hour)
	if cmp.Equal(a, c) {
		t.Error("different seeds gave the same stream")
	}
}

func TestPatternsAndLabels(t *testing.T) {
	txs, labels := collect(t, Config{Seed: 3}, 7*24*time.Hour)
	byID := map[string]Transaction{}
	patterns := map[string]int{}
	var fraud int
	for _, tx := range txs {
		byID[tx.ID] = tx
		if tx.Fraud {
			fraud++
			patterns[tx.Pattern]++
		}
	}
	rate := float64(fraud) / float64(len(txs))
	if len(txs) < 10000 || rate < 0.005 || rate > 0.1 {
		t.Errorf("%d transactions, fraud rate %.4f: want a busy week with a rare but present fraud class", len(txs), rate)
	}
	if patterns["card_testing"] == 0 || patterns["takeover"] == 0 {
		t.Errorf("fraud patterns seen: %v, want both card_testing and takeover", patterns)
	}
	for _, l := range labels {
		tx, ok := byID[l.TransactionID]
		if !ok {
			continue // labels of transactions after the window's start are fine
		}
		if !l.At.After(tx.Time) || l.Fraud != tx.Fraud {
			t.Fatalf("label %+v for %+v: want later and matching", l, tx)
		}
	}
}

func TestCardTestingLooksLikeIt(t *testing.T) {
	txs, _ := collect(t, Config{Seed: 5}, 3*24*time.Hour)
	var small, online, n int
	for _, tx := range txs {
		if tx.Pattern != "card_testing" || tx.Amount >= 100 {
			continue
		}
		n++
		if tx.Amount <= 5 {
			small++
		}
		if tx.Online {
			online++
		}
	}
	if n == 0 || small != n || online != n {
		t.Errorf("card-testing probes: %d, small %d, online %d: want all small and online", n, small, online)
	}
}

func TestDriftChangesFraud(t *testing.T) {
	start := DefaultConfig().Start
	txs, _ := collect(t, Config{Seed: 9, DriftAt: start.Add(3 * 24 * time.Hour)}, 6*24*time.Hour)
	far := func(after bool) (farShare float64) {
		var n, f int
		for _, tx := range txs {
			if tx.Pattern != "takeover" || tx.Time.After(start.Add(3*24*time.Hour)) != after {
				continue
			}
			n++
			if tx.DistanceKM > 100 {
				f++
			}
		}
		if n == 0 {
			t.Fatalf("no takeover transactions (after drift: %v)", after)
		}
		return float64(f) / float64(n)
	}
	before, after := far(false), far(true)
	if before < 0.8 || after > 0.2 {
		t.Errorf("share of far-away takeover transactions: %.2f before drift, %.2f after; want most before, few after", before, after)
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := NewSimulator(Config{Merchants: 3}); err == nil {
		t.Error("3 merchants for 10 categories: got nil error")
	}
}

func BenchmarkNext(b *testing.B) {
	s, _ := NewSimulator(Config{})
	b.ReportAllocs()
	for b.Loop() {
		s.Next()
	}
}
