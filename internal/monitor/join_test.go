package monitor

import (
	"fmt"
	"testing"
)

// The id set answers "seen" for the last n ids added and forgets older
// ones in the order they came, holding at most n.
func TestIDSetRemembersTheLastN(t *testing.T) {
	s := newIDSet(3)
	for _, id := range []string{"a", "b", "c"} {
		if !s.add(id) {
			t.Fatalf("add(%q) = false for a new id", id)
		}
	}
	if s.add("a") || s.add("c") {
		t.Fatal("an id among the last 3 was taken as new")
	}
	if !s.add("d") { // evicts a
		t.Fatal("add(d) = false for a new id")
	}
	if !s.add("a") { // a was evicted; evicts b
		t.Fatal("add(a) after its eviction = false")
	}
	if s.add("c") || s.add("d") || s.add("a") {
		t.Fatal("an id among the last 3 was taken as new after the ring wrapped")
	}
	if !s.add("b") {
		t.Fatal("add(b) after its eviction = false")
	}
	for range 2 {
		if !s.add("") {
			t.Fatal("an empty id must always be new")
		}
	}
	if len(s.m) != 3 || len(s.ring) != 3 {
		t.Fatalf("holds %d ids in a ring of %d, want 3 and 3", len(s.m), len(s.ring))
	}
}

// Memory follows the ids seen, not the cap.
func TestIDSetGrowsWithUse(t *testing.T) {
	s := newIDSet(200_000)
	for i := range 10 {
		s.add(fmt.Sprint("p", i))
	}
	if cap(s.ring) > 64 {
		t.Fatalf("ring capacity %d after 10 ids: allocated for the cap", cap(s.ring))
	}
	for i := range 10 {
		if s.add(fmt.Sprint("p", i)) {
			t.Fatalf("p%d taken as new", i)
		}
	}
}
