package memory

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) reply.Store { return NewStore() })
}

func TestZeroStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) reply.Store { return new(Store) })
}

// TestIndex checks the chunked index against a sorted slice through inserts and removes that
// split chunks and empty them again.
func TestIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var x index
	want := map[entry]bool{}
	for step := range 20000 {
		e := entry{at: rng.Int64N(300), key: fmt.Sprint(rng.IntN(20))}
		if step > 12000 || rng.IntN(3) == 0 { // grow first, then shrink
			x.remove(e)
			delete(want, e)
		} else {
			x.insert(e)
			want[e] = true
		}
		if step%997 != 0 && step != 19999 {
			continue
		}
		sorted := slices.SortedFunc(maps.Keys(want), func(a, b entry) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
		var got []entry
		x.ascend(entry{}, false, func(e entry) bool { got = append(got, e); return true })
		if !slices.Equal(got, sorted) || x.len() != len(sorted) {
			t.Fatalf("step %d: index holds %d entries (len %d), want %d", step, len(got), x.len(), len(sorted))
		}
		// Seeking after any entry continues with the next one.
		for i := 0; i < len(sorted); i += 97 {
			var next []entry
			x.ascend(sorted[i], true, func(e entry) bool { next = append(next, e); return len(next) < 2 })
			if want := sorted[i+1 : min(i+3, len(sorted))]; !slices.Equal(next, want) {
				t.Fatalf("step %d: after %v got %v, want %v", step, sorted[i], next, want)
			}
		}
	}
}

// len counts the entries of every chunk (the store itself never needs it).
func (x *index) len() int {
	n := 0
	for _, c := range x.chunks {
		n += len(c)
	}
	return n
}

func TestClicksContract(t *testing.T) {
	storetest.Clicks(t, func(*testing.T) storetest.ClickStore { return NewStore() })
}

func TestOutboxContract(t *testing.T) {
	storetest.Outbox(t, func(*testing.T) storetest.OutboxStore { return NewStore() })
}

func TestLeadsContract(t *testing.T) {
	storetest.Leads(t, func(*testing.T) storetest.LeadStore { return NewStore() })
	storetest.Leads(t, func(*testing.T) storetest.LeadStore { return new(Store) })
}

func TestCountsContract(t *testing.T) {
	storetest.Counts(t, func(*testing.T) storetest.CountStore { return NewStore() })
}
