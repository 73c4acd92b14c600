package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

// filled is a store with n parked records due one millisecond apart, in scattered key order.
func filled(b *testing.B, n int) *Store {
	b.Helper()
	s := NewStore()
	for i := range n {
		r := storetest.Parked(i, storetest.T0.Add(time.Duration(i*7919%n)*time.Millisecond))
		if _, err := s.Create(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkDueDrain pages through every due record of a 50,000-record backlog.
func BenchmarkDueDrain(b *testing.B) {
	const n = 50000
	for _, page := range []int{100, 1000} {
		b.Run(fmt.Sprintf("n=%d/page=%d", n, page), func(b *testing.B) {
			s := filled(b, n)
			before := storetest.T0.Add(time.Hour)
			b.ResetTimer()
			for b.Loop() {
				got, cursor := 0, ""
				for {
					recs, next, err := s.Due(context.Background(), before, cursor, page)
					if err != nil {
						b.Fatal(err)
					}
					got += len(recs)
					if next == "" {
						break
					}
					cursor = next
				}
				if got != n {
					b.Fatalf("%d due, want %d", got, n)
				}
			}
		})
	}
}

// BenchmarkDuePage is one page from the middle of a 50,000-record backlog.
func BenchmarkDuePage(b *testing.B) {
	s := filled(b, 50000)
	before := storetest.T0.Add(time.Hour)
	recs, cursor, err := s.Due(context.Background(), before, "", 25000)
	if err != nil || len(recs) != 25000 {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if recs, _, err := s.Due(context.Background(), before, cursor, 100); err != nil || len(recs) != 100 {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate moves records through claim and park in a 50,000-record store: every write
// moves the record in the due index.
func BenchmarkUpdate(b *testing.B) {
	const n = 50000
	s := filled(b, n)
	ctx := context.Background()
	recs := make([]reply.Record, n)
	for i := range n {
		r, err := s.Get(ctx, storetest.Parked(i, storetest.T0).Key)
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = r
	}
	now := storetest.T0.Add(time.Hour)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		r := recs[i%n]
		var next reply.Record
		var err error
		if r.State == reply.StateLeased {
			next, err = r.Park(now.Add(time.Duration(i%1000)*time.Second), "rate", false, now)
		} else {
			now = now.Add(time.Hour) // every parked record is due again
			next, err = r.Claim(r.Job, "w", now, now.Add(time.Minute))
		}
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Update(ctx, next); err != nil {
			b.Fatal(err)
		}
		recs[i%n] = next
		i++
	}
}

// BenchmarkUpdateParallel is concurrent conditional updates on distinct keys.
func BenchmarkUpdateParallel(b *testing.B) {
	const n = 50000
	s := filled(b, n)
	ctx := context.Background()
	base := make([]reply.Record, n)
	for i := range n {
		base[i], _ = s.Get(ctx, storetest.Parked(i, storetest.T0).Key)
	}
	var next = make(chan int, n)
	for i := range n {
		next <- i
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := <-next
			r := base[i]
			r.Version++
			if _, err := s.Update(ctx, r); err != nil {
				b.Fatal(err)
			}
			base[i] = r
			next <- i
		}
	})
}
