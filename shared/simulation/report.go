package simulation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// ReportDays is the report the run's summary prices: a month of the account, as
// `replywindow report --since 30d` reads it.
const ReportDays = 30

// queryPage is how much one DynamoDB Query reads before it returns a page.
const queryPage = 1 << 20

// ReportCost is what reading ReportDays of an account's report costs: the counter items the
// store's funnel.Reader returned, and what DynamoDB bills for that read (one Query of IndexList,
// a page per 1 MB, eventually consistent as every GSI read is).
type ReportCost struct {
	Items    int     // counter items read
	Bytes    int     // their size as DynamoDB counts it (estimated from their attributes)
	Requests int     // Query requests: pages of 1 MB, at least one
	RRU      float64 // read request units
}

// reportCost reads the account's report for the ReportDays up to now through the store's
// funnel.Reader (the store may be wrapped) and prices that read.
func reportCost(ctx context.Context, store reply.Store, account string, now time.Time) (ReportCost, error) {
	r, ok := reply.StoreAs[funnel.Reader](store)
	if !ok {
		return ReportCost{}, fmt.Errorf("report cost: store %T reads no funnel counts", store)
	}
	rows, err := r.Counts(ctx, account, now.AddDate(0, 0, -(ReportDays-1)), now)
	if err != nil {
		return ReportCost{}, fmt.Errorf("report cost of %s: %w", account, err)
	}
	sizes := make([]int, len(rows))
	for i, row := range rows {
		sizes[i] = counterBytes(row)
	}
	return priceQuery(sizes), nil
}

// priceQuery bills one Query returning items of these sizes: DynamoDB ends a page once it has
// read 1 MB, and bills each page its items' total size rounded up to 4 KB, half a unit per 4 KB
// eventually consistent; an empty page still costs half a unit.
func priceQuery(sizes []int) ReportCost {
	c := ReportCost{Items: len(sizes), Requests: 1}
	page := 0
	for _, b := range sizes {
		if page > 0 && page+b > queryPage {
			c.RRU += readUnits(float64(page), false)
			c.Requests++
			page = 0
		}
		page += b
		c.Bytes += b
	}
	c.RRU += readUnits(float64(page), false)
	return c
}

// counterBytes is the DynamoDB size of row's counter item, attribute by attribute as
// dynamo.CountUpdate writes it: each attribute's name plus its value, a string by its UTF-8
// bytes and a number by one byte per two significant digits plus one.
func counterBytes(row funnel.Row) int {
	key := funnel.NewTally(row.Account, row.Rule, row.Variant, row.Media, dayOf(row.Day)).Key
	for n := range row.Counts {
		// A click's counts live in their own item per link and kind, its key longer by both.
		if link, ok := strings.CutPrefix(n, strings.TrimPrefix(funnel.UniqueClicks, funnel.CountPrefix)+":"); ok {
			key = funnel.Click(row.Account, row.Rule, row.Variant, row.Media, link, dayOf(row.Day), true).Key
			break
		}
		if link, ok := strings.CutPrefix(n, strings.TrimPrefix(funnel.Clicks, funnel.CountPrefix)+":"); ok {
			key = funnel.Click(row.Account, row.Rule, row.Variant, row.Media, link, dayOf(row.Day), false).Key
			break
		}
	}
	b := len(dynamo.AttrPK) + len(key) +
		len(dynamo.AttrList) + len(funnel.KeyPrefix(row.Account)) +
		len(funnel.AttrDay) + len(row.Day) +
		len(funnel.AttrRule) + len(row.Rule) +
		len(funnel.AttrVariant) + len(row.Variant) +
		len(funnel.AttrMedia) + len(row.Media) +
		len(dynamo.AttrExpiresAt) + numberBytes(dayOf(row.Day).Add(dynamo.CountRetention).Unix())
	for n, v := range row.Counts {
		b += len(funnel.CountPrefix) + len(n) + numberBytes(v)
	}
	return b
}

// numberBytes is DynamoDB's size of a number: one byte per two significant digits, plus one.
func numberBytes(n int64) int {
	d := strings.Trim(strings.TrimPrefix(strconv.FormatInt(n, 10), "-"), "0")
	return (len(d)+1)/2 + 1
}

func dayOf(d string) time.Time {
	t, _ := time.Parse(funnel.DayLayout, d)
	return t
}
