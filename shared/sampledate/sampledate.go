// Package sampledate moves the times in a sample event (events/*.json) to now, so that an
// event written once still reads as fresh to the handlers that judge age (the replier expires a
// job whose comment is older than the private-reply window).
package sampledate

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ErrUndated is returned for a file without any UTC RFC 3339 time to move.
var ErrUndated = errors.New("no RFC 3339 UTC time (2006-01-02T15:04:05Z) to move")

// stamp is a UTC RFC 3339 time as the samples write it, in the file or in a job's JSON body
// (where it needs no escaping, so the same text matches in both).
var stamp = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`)

// Redate shifts every UTC RFC 3339 time in raw by one amount so the latest becomes now
// (truncated to the second), keeping their order and spacing. In an SQS event it also shifts the
// records' SentTimestamp and ApproximateFirstReceiveTimestamp and recomputes md5OfBody. Only the
// times change: the file keeps its layout, so the diff shows nothing else.
func Redate(raw []byte, now time.Time) ([]byte, error) {
	if !json.Valid(raw) {
		return nil, errors.New("not valid JSON")
	}
	found := stamp.FindAllString(string(raw), -1)
	if len(found) == 0 {
		return nil, ErrUndated
	}
	var latest time.Time
	for _, s := range found {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("time %q: %w", s, err)
		}
		if t.After(latest) {
			latest = t
		}
	}
	delta := now.UTC().Truncate(time.Second).Sub(latest)
	pairs := map[string]string{}
	for _, s := range found {
		t, _ := time.Parse(time.RFC3339Nano, s)
		pairs[s] = t.Add(delta).Format(time.RFC3339Nano)
	}
	timed := replacer(pairs)
	sqsPairs, err := sqsPairs(raw, timed, delta)
	if err != nil {
		return nil, err
	}
	for k, v := range sqsPairs {
		pairs[k] = v
	}
	out := []byte(replacer(pairs).Replace(string(raw)))
	if err := checkSQS(out); err != nil {
		return nil, fmt.Errorf("after dating: %w", err)
	}
	return out, nil
}

func replacer(pairs map[string]string) *strings.Replacer {
	var args []string
	for k, v := range pairs {
		args = append(args, k, v)
	}
	return strings.NewReplacer(args...)
}

// sqsPairs is what else changes in an SQS event when its bodies' times move: each body's MD5
// (SQS's own check of the body) and the epoch milliseconds SQS stamped on the message.
func sqsPairs(raw []byte, timed *strings.Replacer, delta time.Duration) (map[string]string, error) {
	ev, ok := sqsEvent(raw)
	if !ok {
		return nil, nil
	}
	pairs := map[string]string{}
	for i, r := range ev.Records {
		if r.Md5OfBody != "" {
			sum := md5.Sum([]byte(timed.Replace(r.Body)))
			pairs[r.Md5OfBody] = hex.EncodeToString(sum[:])
		}
		for _, name := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
			v, ok := r.Attributes[name]
			if !ok {
				continue
			}
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("record %d (%s): attribute %s %q is not epoch milliseconds", i, r.MessageId, name, v)
			}
			pairs[v] = strconv.FormatInt(ms+delta.Milliseconds(), 10)
		}
	}
	return pairs, nil
}

// checkSQS proves the rewrite kept an SQS event whole: every md5OfBody matches its body.
func checkSQS(raw []byte) error {
	ev, ok := sqsEvent(raw)
	if !ok {
		return nil
	}
	for i, r := range ev.Records {
		sum := md5.Sum([]byte(r.Body))
		if r.Md5OfBody != "" && r.Md5OfBody != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("record %d (%s): md5OfBody does not match the body", i, r.MessageId)
		}
	}
	return nil
}

func sqsEvent(raw []byte) (events.SQSEvent, bool) {
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) == 0 || ev.Records[0].EventSource != "aws:sqs" {
		return events.SQSEvent{}, false
	}
	return ev, true
}
