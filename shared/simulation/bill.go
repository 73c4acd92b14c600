package simulation

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// BillKey names where DynamoDB units went: the kind of item (by its key's prefix, or the index
// an index write lands in) and the operation that touched it.
type BillKey struct{ Kind, Op string }

// Bill is what one BillKey cost over a run.
type Bill struct {
	Requests              int64
	ReadUnits, WriteUnits float64
}

// Kinds of item, by the key prefixes of shared/reply and the dynamo adapter's indexes.
const (
	kindRecord    = "C# record"
	kindGuard     = "F# funnel guard"
	kindTombstone = "T# tombstone"
	kindBucket    = "R# rate bucket"
	kindAccount   = "A# account"
	kindCounter   = "N# funnel counter"
	kindIndexDue  = "GSI due"
	kindIndexCID  = "GSI comment"
	kindIndexLane = "GSI lane"
	kindIndexMsg  = "GSI message"
	kindIndexList = "GSI list"
)

// kindOf is the kind of the item under key.
func kindOf(key string) string {
	for _, k := range []string{kindRecord, kindGuard, kindTombstone, kindBucket, kindAccount, kindCounter} {
		if strings.HasPrefix(key, k[:2]) {
			return k
		}
	}
	if i := strings.IndexByte(key, '#'); i > 0 {
		return key[:i+1] + " other"
	}
	return "other"
}

// bill adds one line of usage to the run's totals and to its BillKey; c.mu is held.
func (c *counters) bill(kind, op string, requests int64, read, write float64) {
	if c.bills == nil {
		c.bills = map[BillKey]*Bill{}
	}
	b := c.bills[BillKey{kind, op}]
	if b == nil {
		b = &Bill{}
		c.bills[BillKey{kind, op}] = b
	}
	b.Requests += requests
	b.ReadUnits += read
	b.WriteUnits += write
	c.u.DynamoRequests += requests
	c.u.ReadUnits += read
	c.u.WriteUnits += write
}

// billed is a copy of the bills; c.mu is not held.
func (c *counters) billed() map[BillKey]Bill {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[BillKey]Bill, len(c.bills))
	for k, b := range c.bills {
		out[k] = *b
	}
	return out
}

// Breakdown writes the run's DynamoDB usage per comment by item kind and operation, the
// costliest first (a read unit is a fifth of a write unit's price), with the totals.
func (r ScaleResult) Breakdown(w io.Writer) {
	keys := make([]BillKey, 0, len(r.Bills))
	for k := range r.Bills {
		keys = append(keys, k)
	}
	price := func(b Bill) float64 { return b.WriteUnits + b.ReadUnits/5 }
	sort.Slice(keys, func(i, j int) bool {
		bi, bj := r.Bills[keys[i]], r.Bills[keys[j]]
		if price(bi) != price(bj) {
			return price(bi) > price(bj)
		}
		return keys[i].Kind+keys[i].Op < keys[j].Kind+keys[j].Op
	})
	fmt.Fprintf(w, "DynamoDB per comment (%d comments)     %-22s %9s %9s %9s\n", r.Comments, "operation", "requests", "reads", "writes")
	var total Bill
	for _, k := range keys {
		b := r.Bills[k]
		total.Requests += b.Requests
		total.ReadUnits += b.ReadUnits
		total.WriteUnits += b.WriteUnits
		fmt.Fprintf(w, "  %-36s %-22s %9.3f %9.3f %9.3f\n", k.Kind, k.Op, r.PerComment(float64(b.Requests)), r.PerComment(b.ReadUnits), r.PerComment(b.WriteUnits))
	}
	fmt.Fprintf(w, "  %-36s %-22s %9.3f %9.3f %9.3f\n", "total", "", r.PerComment(float64(total.Requests)), r.PerComment(total.ReadUnits), r.PerComment(total.WriteUnits))
}
