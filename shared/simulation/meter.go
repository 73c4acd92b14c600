package simulation

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/replywindow/replywindow/shared/cost"
	"github.com/replywindow/replywindow/shared/reply"
)

// Latency is the scale simulation's model of how long each outside call takes. The fake clock
// does not move while a call runs: the model's time is added up per invocation (a meter in the
// call's context) and becomes the invocation's billed duration, a DM's send time and a sweep's
// length. Each call takes its mean times a factor spread evenly over [1-Jitter, 1+Jitter].
type Latency struct {
	DynamoGet      time.Duration // GetItem, consistent
	DynamoPut      time.Duration // conditional PutItem, DeleteItem
	DynamoTransact time.Duration // TransactWriteItems
	DynamoQuery    time.Duration // one Query page
	DynamoBatchGet time.Duration // BatchGetItem of up to 100 items, read side by side
	SQSSend        time.Duration // SendMessageBatch
	SQSReceive     time.Duration // the event source's receive, before the replier's invocation
	GraphSend      time.Duration // POST /{id}/messages
	GraphRead      time.Duration // GET: comment, live_media
	Jitter         float64
}

// DefaultLatency is in line with what AWS states for DynamoDB (single-digit milliseconds; a
// transaction does two underlying writes per item) and SQS (tens of milliseconds), and with the
// hundreds of milliseconds Meta's send API takes.
var DefaultLatency = Latency{
	DynamoGet: 4 * time.Millisecond, DynamoPut: 6 * time.Millisecond, DynamoTransact: 12 * time.Millisecond,
	DynamoQuery: 8 * time.Millisecond, DynamoBatchGet: 12 * time.Millisecond, SQSSend: 15 * time.Millisecond, SQSReceive: 20 * time.Millisecond,
	GraphSend: 250 * time.Millisecond, GraphRead: 150 * time.Millisecond, Jitter: 0.5,
}

// meter adds up the modelled time of one invocation's calls. The replier runs a batch's jobs
// at once, so it is shared and atomic.
type meter struct{ ns atomic.Int64 }

type meterKey struct{}

func withMeter(ctx context.Context) (context.Context, *meter) {
	m := &meter{}
	return context.WithValue(ctx, meterKey{}, m), m
}

func meterOf(ctx context.Context) *meter {
	m, _ := ctx.Value(meterKey{}).(*meter)
	return m
}

func (m *meter) elapsed() time.Duration { return time.Duration(m.ns.Load()) }

// model draws call latencies; it is safe for concurrent use.
type model struct {
	lat Latency
	seq atomic.Uint64
}

// charge adds one call of mean d to the context's meter and returns the meter's total.
func (l *model) charge(ctx context.Context, d time.Duration) time.Duration {
	m := meterOf(ctx)
	if m == nil {
		return 0
	}
	// splitmix64 of a counter: cheap, deterministic for a given order of calls, and free of a
	// lock that the replier's concurrent jobs would contend on.
	z := l.seq.Add(1) * 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	u := float64(z>>11) / (1 << 53) // [0,1)
	f := 1 + l.lat.Jitter*(2*u-1)
	return time.Duration(m.ns.Add(int64(float64(d) * f)))
}

// Usage counts what the run asked of AWS and Meta, in the units AWS bills by.
type Usage = cost.Counts

// counters is Usage behind a lock, with the per-key write rate.
type counters struct {
	mu   sync.Mutex
	u    Usage
	rate map[string]*keyRate
	// itemBytes is the running mean of written record sizes: a Due page is billed by the bytes
	// it reads, and the size of every record read is not worth a lookup each.
	itemBytes, items float64
	maxKey           string
	maxKeyWrites     int
	bills            map[BillKey]*Bill // DynamoDB usage by item kind and operation
}

// keyRate counts one partition key's writes in the current second of the fake clock.
type keyRate struct {
	sec int64
	n   int
}

func newCounters() *counters { return &counters{rate: map[string]*keyRate{}} }

func (c *counters) add(f func(u *Usage)) {
	c.mu.Lock()
	f(&c.u)
	c.mu.Unlock()
}

// wrote counts one write to each partition key at now; c.mu is held.
func (c *counters) wrote(now time.Time, keys ...string) {
	sec := now.Unix()
	for _, k := range keys {
		r := c.rate[k]
		if r == nil {
			r = &keyRate{sec: sec}
			c.rate[k] = r
		}
		if r.sec != sec {
			r.sec, r.n = sec, 0
		}
		r.n++
		if r.n > c.maxKeyWrites {
			c.maxKeyWrites, c.maxKey = r.n, k
		}
	}
}

// units is a write's request units: 1 per KB (rounded up), twice that in a transaction.
func writeUnits(bytes int, transact bool) float64 {
	u := float64((bytes + 1023) / 1024)
	if u < 1 {
		u = 1
	}
	if transact {
		u *= 2
	}
	return u
}

// readUnits is a read's request units for so many bytes: 1 per 4 KB strongly consistent, half
// that eventually consistent (every GSI query), and never less than one 4 KB unit.
func readUnits(bytes float64, consistent bool) float64 {
	u := float64(int64(bytes+4095) / 4096)
	if u < 1 {
		u = 1
	}
	if !consistent {
		u /= 2
	}
	return u
}

// recordBytes approximates the DynamoDB item of a record by its JSON: the attribute names and
// values are the same, the index attributes (due, shard, comment, expiry) a few bytes more.
func recordBytes(r reply.Record) int {
	b, err := json.Marshal(r)
	if err != nil {
		return 1024
	}
	return len(b) + 64
}

// dueShard is the IndexDue partition a record is written under (dynamo.DueShards of them): the
// per-key write count treats each as a key, as DynamoDB's GSI partitions are.
func dueShard(key string) string {
	h := uint32(2166136261) // FNV-1a, as the dynamo adapter's shard
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return "GSI#due#" + strconv.Itoa(int(h%8))
}
