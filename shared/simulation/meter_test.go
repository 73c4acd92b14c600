package simulation

import (
	"context"
	"hash/fnv"
	"strconv"
	"testing"
	"time"
)

func TestUnits(t *testing.T) {
	cases := []struct {
		name      string
		got, want float64
	}{
		{"empty write is one unit", writeUnits(0, false), 1},
		{"1 KB write", writeUnits(1024, false), 1},
		{"just over 1 KB", writeUnits(1025, false), 2},
		{"transactional write doubles", writeUnits(1500, true), 4},
		{"consistent read of 4 KB", readUnits(4096, true), 1},
		{"eventually consistent read of 5 KB", readUnits(5000, false), 1},
		{"empty eventually consistent read", readUnits(0, false), 0.5},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %v units, want %v", c.name, c.got, c.want)
		}
	}
}

// TestDueShard: the per-key count puts a record's index entry in the shard the dynamo adapter
// writes it to (FNV-1a of the key, modulo its eight shards).
func TestDueShard(t *testing.T) {
	for _, key := range []string{"C#1", "C#17990000000001", "C#x"} {
		h := fnv.New32a()
		h.Write([]byte(key))
		if got, want := dueShard(key), "GSI#due#"+strconv.Itoa(int(h.Sum32()%8)); got != want {
			t.Errorf("dueShard(%q) = %s, want %s", key, got, want)
		}
	}
}

func TestMeter(t *testing.T) {
	m := &model{lat: Latency{Jitter: 0.5}}
	if got := m.charge(context.Background(), time.Second); got != 0 {
		t.Errorf("a call without a meter was charged %s", got)
	}
	ctx, mt := withMeter(context.Background())
	for range 1000 {
		m.charge(ctx, time.Millisecond)
	}
	if e := mt.elapsed(); e < 900*time.Millisecond || e > 1100*time.Millisecond {
		t.Errorf("1000 calls of 1ms ±50%% took %s, want about 1s", e)
	}
}

func TestKeyRate(t *testing.T) {
	c := newCounters()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		c.wrote(at.Add(time.Duration(i)*100*time.Millisecond), "A", "B") // one second: 5 each
	}
	for range 3 {
		c.wrote(at.Add(2*time.Second), "A")
	}
	if c.maxKeyWrites != 5 || c.maxKey != "A" {
		t.Errorf("busiest key %s with %d writes in a second, want A with 5", c.maxKey, c.maxKeyWrites)
	}
}

func TestWorkload(t *testing.T) {
	cfg := SmallScale().withDefaults()
	cs, bs, accounts := workload(cfg)
	if len(cs) != cfg.Comments || len(accounts) != cfg.Accounts || len(bs) != cfg.Live {
		t.Fatalf("%d comments, %d accounts, %d broadcasts; want %d, %d, %d", len(cs), len(accounts), len(bs), cfg.Comments, cfg.Accounts, cfg.Live)
	}
	viral := map[string]int{}
	ids := map[string]bool{}
	for i, c := range cs {
		if i > 0 && c.at.Before(cs[i-1].at) {
			t.Fatalf("comment %d made before the one ahead of it", i)
		}
		if c.at.Before(cfg.Start) || !c.at.Before(cfg.Start.Add(cfg.Day)) {
			t.Errorf("comment %s made at %s, outside the day", c.id, c.at)
		}
		if ids[c.id] {
			t.Errorf("comment id %s twice", c.id)
		}
		ids[c.id] = true
		if c.viral {
			viral[c.account]++
		}
	}
	if len(viral) != cfg.Viral {
		t.Errorf("%d viral accounts, want %d", len(viral), cfg.Viral)
	}
	for a, n := range viral {
		if n < cfg.ViralMin || n > cfg.ViralMax {
			t.Errorf("viral account %s has %d comments, want %d to %d", a, n, cfg.ViralMin, cfg.ViralMax)
		}
	}
}
