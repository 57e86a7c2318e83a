package roster

import "testing"

func TestIDsOfOneProcessStrictlyIncrease(t *testing.T) {
	prev := NewID()
	for i := 0; i < 100000; i++ {
		id := NewID()
		if id <= prev {
			t.Fatalf("id %s after %s: not increasing", id, prev)
		}
		if !ValidID(id) || id[14] != '7' {
			t.Fatalf("id %s is not a canonical UUIDv7", id)
		}
		prev = id
	}
}
