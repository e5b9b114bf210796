// Package fraud is Plinth's card-fraud product: a transaction simulator
// with documented fraud patterns, a loader for the public ULB credit-card
// data set, and the product's stream schema, feature views and training
// spec for the platform.
//
// # The simulator
//
// Customers hold one card each, live at a home location, and spend
// following their own profile: a typical amount (log-normal around a
// personal median), a daily rate, a few favourite merchant categories and
// active hours. Merchants have a category, a location and an online flag.
// Legitimate transactions follow these profiles.
//
// Fraud follows two patterns seen in practice:
//
//   - Card testing: a stolen card number is probed with a burst of tiny
//     online purchases (0.50 to 5.00) a few seconds to minutes apart, and,
//     if they pass, one large purchase follows.
//   - Account takeover: from some moment the card is used by someone else:
//     far from home, at categories the owner never uses (electronics, gift
//     cards, travel), at hours the owner sleeps, for larger amounts and at
//     a higher rate, until the card is blocked.
//
// Labels arrive later, as they do in production: a fraud is confirmed
// between hours and days after it happened (chargebacks), a legitimate
// transaction is confirmed once its dispute window passes. The simulator
// emits both transactions and labels in time order. Drift can be switched
// on at a moment: fraudsters then move to other categories, amounts and
// hours, which a model trained before the switch has not seen.
//
// The simulator is deterministic for a seed.
package fraud

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Merchant categories.
var categories = []string{"grocery", "fuel", "restaurant", "pharmacy", "apparel", "online", "electronics", "travel", "giftcard", "entertainment"}

// Categories of everyday spending, and those fraudsters favour.
var (
	everyday     = []int{0, 1, 2, 3, 4, 5, 9}
	fraudFavored = []int{6, 7, 8}
	driftFavored = []int{2, 4, 9} // after drift: fraud blends into everyday spending
)

// Config sets the simulated world. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	Seed      uint64
	Customers int
	Merchants int
	Start     time.Time
	// CardTestingPerDay and TakeoverPerDay are the expected number of new
	// fraud episodes per day across all cards.
	CardTestingPerDay float64
	TakeoverPerDay    float64
	// FraudLabelDelay and LegitLabelDelay bound when labels arrive after
	// the transaction (uniform between the two values of each).
	FraudLabelDelay [2]time.Duration
	LegitLabelDelay [2]time.Duration
	// DriftAt, when set, switches fraud to new patterns from that moment.
	DriftAt time.Time
}

// DefaultConfig is a small city: 2,000 cards, 300 merchants.
func DefaultConfig() Config {
	return Config{
		Seed: 1, Customers: 2000, Merchants: 300,
		Start:             time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		CardTestingPerDay: 6, TakeoverPerDay: 4,
		FraudLabelDelay: [2]time.Duration{2 * time.Hour, 48 * time.Hour},
		LegitLabelDelay: [2]time.Duration{24 * time.Hour, 72 * time.Hour},
	}
}

// Transaction is one card payment as the product's EVENTS stream carries it.
type Transaction struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Card     string    `json:"card"`
	Merchant string    `json:"merchant"`
	Category string    `json:"category"`
	Amount   float64   `json:"amount"`
	Online   bool      `json:"online"`
	// DistanceKM is the distance from the card holder's home.
	DistanceKM float64 `json:"distance_km"`
	Hour       int     `json:"hour"`
	// Fraud and Pattern are the ground truth; they are not sent with the
	// event, only later as a Label.
	Fraud   bool   `json:"-"`
	Pattern string `json:"-"`
}

// Label is the ground truth of a transaction, arriving at At.
type Label struct {
	TransactionID string    `json:"transaction_id"`
	Card          string    `json:"card"`
	TxTime        time.Time `json:"tx_time"`
	Fraud         bool      `json:"fraud"`
	At            time.Time `json:"at"`
}

// Event is the next thing that happens: a transaction or a label.
type Event struct {
	Tx    *Transaction
	Label *Label
}

// Time is when the event happens.
func (e Event) Time() time.Time {
	if e.Tx != nil {
		return e.Tx.Time
	}
	return e.Label.At
}

type customer struct {
	card       string
	x, y       float64 // home, km
	median     float64 // typical amount
	ratePerDay float64
	favorites  []int
	wakeHour   int
	blocked    time.Time
}

type merchant struct {
	id       string
	category int
	x, y     float64
	online   bool
}

// Simulator generates a deterministic stream of events. It is not safe for
// concurrent use.
type Simulator struct {
	cfg       Config
	rng       *rand.Rand
	customers []customer
	merchants []merchant
	byCat     [][]int
	queue     eventQueue
	seq       int
}

// NewSimulator builds the world of cfg.
func NewSimulator(cfg Config) (*Simulator, error) {
	cfg = withDefaults(cfg)
	if cfg.Customers < 1 || cfg.Merchants < len(categories) {
		return nil, fmt.Errorf("fraud simulator: need at least 1 customer and %d merchants, got %d and %d",
			len(categories), cfg.Customers, cfg.Merchants)
	}
	s := &Simulator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed))}
	s.makeMerchants()
	s.makeCustomers()
	for i := range s.customers {
		s.scheduleLegit(i, cfg.Start)
	}
	s.scheduleEpisode(cfg.Start, "card_testing")
	s.scheduleEpisode(cfg.Start, "takeover")
	return s, nil
}

func withDefaults(c Config) Config {
	d := DefaultConfig()
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	if c.Customers == 0 {
		c.Customers = d.Customers
	}
	if c.Merchants == 0 {
		c.Merchants = d.Merchants
	}
	if c.Start.IsZero() {
		c.Start = d.Start
	}
	if c.CardTestingPerDay == 0 {
		c.CardTestingPerDay = d.CardTestingPerDay
	}
	if c.TakeoverPerDay == 0 {
		c.TakeoverPerDay = d.TakeoverPerDay
	}
	if c.FraudLabelDelay == [2]time.Duration{} {
		c.FraudLabelDelay = d.FraudLabelDelay
	}
	if c.LegitLabelDelay == [2]time.Duration{} {
		c.LegitLabelDelay = d.LegitLabelDelay
	}
	return c
}

func (s *Simulator) makeMerchants() {
	s.byCat = make([][]int, len(categories))
	for i := range s.cfg.Merchants {
		cat := i % len(categories)
		m := merchant{id: fmt.Sprintf("m%04d", i), category: cat, x: s.rng.Float64() * 50, y: s.rng.Float64() * 50,
			online: categories[cat] == "online" || categories[cat] == "giftcard" || s.rng.Float64() < 0.1}
		s.merchants = append(s.merchants, m)
		s.byCat[cat] = append(s.byCat[cat], i)
	}
}

func (s *Simulator) makeCustomers() {
	for i := range s.cfg.Customers {
		c := customer{
			card:       fmt.Sprintf("c%05d", i),
			x:          s.rng.Float64() * 50,
			y:          s.rng.Float64() * 50,
			median:     math.Exp(2.5 + s.rng.NormFloat64()*0.6), // about 12, spread 5–40
			ratePerDay: 0.5 + s.rng.ExpFloat64()*1.5,
			wakeHour:   6 + s.rng.IntN(3),
		}
		for range 3 {
			c.favorites = append(c.favorites, everyday[s.rng.IntN(len(everyday))])
		}
		s.customers = append(s.customers, c)
	}
}

// Next returns the next event in time order. The stream never ends.
func (s *Simulator) Next() Event {
	for {
		it := heap.Pop(&s.queue).(item)
		if it.run != nil {
			it.run(it.at)
			continue
		}
		return it.ev
	}
}

func (s *Simulator) push(at time.Time, ev Event) { heap.Push(&s.queue, item{at: at, ev: ev}) }

func (s *Simulator) later(at time.Time, fn func(time.Time)) {
	heap.Push(&s.queue, item{at: at, run: fn})
}

// expDelay draws an exponential gap for a rate per day.
func (s *Simulator) expDelay(perDay float64) time.Duration {
	return time.Duration(s.rng.ExpFloat64() / perDay * float64(24*time.Hour))
}

func (s *Simulator) uniform(r [2]time.Duration) time.Duration {
	return r[0] + time.Duration(s.rng.Float64()*float64(r[1]-r[0]))
}

func (s *Simulator) scheduleLegit(ci int, from time.Time) {
	c := &s.customers[ci]
	at := from.Add(s.expDelay(c.ratePerDay))
	// People sleep: move night-time purchases to the morning.
	if h := at.Hour(); h < c.wakeHour {
		at = at.Add(time.Duration(c.wakeHour-h) * time.Hour)
	}
	s.later(at, func(at time.Time) {
		if at.Before(c.blocked) || c.blocked.IsZero() {
			cat := c.favorites[s.rng.IntN(len(c.favorites))]
			if s.rng.Float64() < 0.1 {
				cat = everyday[s.rng.IntN(len(everyday))]
			}
			amount := c.median * math.Exp(s.rng.NormFloat64()*0.5)
			s.emit(at, ci, cat, amount, false, "", 3)
		}
		s.scheduleLegit(ci, at)
	})
}

func (s *Simulator) scheduleEpisode(from time.Time, pattern string) {
	rate := s.cfg.CardTestingPerDay
	if pattern == "takeover" {
		rate = s.cfg.TakeoverPerDay
	}
	at := from.Add(s.expDelay(rate))
	s.later(at, func(at time.Time) {
		ci := s.rng.IntN(len(s.customers))
		if s.customers[ci].blocked.IsZero() {
			if pattern == "takeover" {
				s.takeover(ci, at)
			} else {
				s.cardTesting(ci, at)
			}
		}
		s.scheduleEpisode(at, pattern)
	})
}

func (s *Simulator) drifted(at time.Time) bool {
	return !s.cfg.DriftAt.IsZero() && !at.Before(s.cfg.DriftAt)
}

// cardTesting probes a card with tiny online purchases, then cashes out.
func (s *Simulator) cardTesting(ci int, at time.Time) {
	n := 4 + s.rng.IntN(12)
	gap := 20 * time.Second
	if s.drifted(at) {
		// After drift, testers slow down to stay under velocity rules.
		gap = 20 * time.Minute
	}
	t := at
	for range n {
		cat := 5 // online
		if s.drifted(at) {
			cat = driftFavored[s.rng.IntN(len(driftFavored))]
		}
		s.emitAt(t, ci, cat, 0.5+s.rng.Float64()*4.5, true, "card_testing", 0)
		t = t.Add(time.Duration(float64(gap) * (0.5 + s.rng.Float64())))
	}
	s.emitAt(t.Add(time.Duration(s.rng.IntN(3600))*time.Second), ci, fraudFavored[s.rng.IntN(len(fraudFavored))],
		200+s.rng.Float64()*1800, true, "card_testing", 0)
}

// takeover hands the card to someone else for a day or two.
func (s *Simulator) takeover(ci int, at time.Time) {
	c := &s.customers[ci]
	until := at.Add(time.Duration(6+s.rng.IntN(42)) * time.Hour)
	t := at
	for t.Before(until) {
		cats, scale, dist := fraudFavored, 8.0, 400.0
		if s.drifted(at) {
			// After drift, takeovers mimic the owner: their categories,
			// modest amounts, nearby.
			cats, scale, dist = c.favorites, 2.0, 15.0
		}
		s.emitAt(t, ci, cats[s.rng.IntN(len(cats))], c.median*scale*math.Exp(s.rng.NormFloat64()*0.4), true, "takeover", dist)
		t = t.Add(s.expDelay(12))
	}
	c.blocked = until
}

func (s *Simulator) emitAt(at time.Time, ci, cat int, amount float64, fraud bool, pattern string, distKM float64) {
	s.later(at, func(at time.Time) { s.emit(at, ci, cat, amount, fraud, pattern, distKM) })
}

func (s *Simulator) emit(at time.Time, ci, cat int, amount float64, fraud bool, pattern string, distKM float64) {
	c := &s.customers[ci]
	mi := s.byCat[cat][s.rng.IntN(len(s.byCat[cat]))]
	m := s.merchants[mi]
	dist := math.Hypot(m.x-c.x, m.y-c.y)
	if m.online {
		dist = 0
	}
	if distKM > 0 {
		dist += distKM * (0.5 + s.rng.Float64())
	}
	s.seq++
	tx := &Transaction{
		ID: fmt.Sprintf("tx%09d", s.seq), Time: at, Card: c.card, Merchant: m.id, Category: categories[cat],
		Amount: math.Round(amount*100) / 100, Online: m.online, DistanceKM: math.Round(dist*10) / 10,
		Hour: at.Hour(), Fraud: fraud, Pattern: pattern,
	}
	s.push(at, Event{Tx: tx})
	delay := s.uniform(s.cfg.LegitLabelDelay)
	if fraud {
		delay = s.uniform(s.cfg.FraudLabelDelay)
	}
	s.push(at.Add(delay), Event{Label: &Label{TransactionID: tx.ID, Card: tx.Card, TxTime: at, Fraud: fraud, At: at.Add(delay)}})
}

type item struct {
	at  time.Time
	seq uint64
	ev  Event
	run func(time.Time)
}

// eventQueue orders items by time, then by insertion, so equal times stay
// deterministic.
type eventQueue struct {
	items []item
	n     uint64
}

func (q *eventQueue) Len() int { return len(q.items) }
func (q *eventQueue) Less(i, j int) bool {
	if !q.items[i].at.Equal(q.items[j].at) {
		return q.items[i].at.Before(q.items[j].at)
	}
	return q.items[i].seq < q.items[j].seq
}
func (q *eventQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *eventQueue) Push(x any) {
	it := x.(item)
	q.n++
	it.seq = q.n
	q.items = append(q.items, it)
}
func (q *eventQueue) Pop() any {
	it := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return it
}
