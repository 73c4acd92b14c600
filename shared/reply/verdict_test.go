package reply

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestClassify is design.md §2's error table, row by row.
func TestClassify(t *testing.T) {
	tests := []struct {
		status, code, sub int
		want              Verdict
	}{
		{400, 10, 2534022, VerdictExpired},
		{400, 100, 2534025, VerdictAlreadyReplied},
		{400, 100, 2534014, VerdictPermanent},
		{400, 551, 0, VerdictPermanent},
		{400, 551, 1545041, VerdictPermanent},
		{400, 200, 1545041, VerdictPermanent},
		{403, 200, 2534041, VerdictAccount},
		{400, 100, 2534029, VerdictAccount},
		{400, 10, 2534077, VerdictAccount},
		{400, 100, 2534013, VerdictAccount},
		{401, 190, 0, VerdictAuth},
		{401, 190, 463, VerdictAuth},
		{400, 458, 0, VerdictAuth},
		{400, 467, 0, VerdictAuth},
		{400, 4, 0, VerdictThrottled},
		{400, 17, 0, VerdictThrottled},
		{400, 32, 0, VerdictThrottled},
		{400, 613, 0, VerdictThrottled},
		{400, 613, 2534040, VerdictThrottled},
		{400, 80002, 0, VerdictThrottled}, // the Instagram business-use-case limit (reads)
		{429, 0, 0, VerdictThrottled},
		{500, 1, 0, VerdictUncertain},
		{503, 2, 0, VerdictUncertain},
		{502, 0, 0, VerdictUncertain},
		{0, 0, 0, VerdictUncertain},
		{400, 100, 0, VerdictPermanent},
	}
	for _, tt := range tests {
		err := fmt.Errorf("send: %w", &GraphError{Status: tt.status, Code: tt.code, Subcode: tt.sub})
		if got := Classify(err); got != tt.want {
			t.Errorf("HTTP %d %d/%d: %v, want %v", tt.status, tt.code, tt.sub, got, tt.want)
		}
	}
	if Classify(nil) != VerdictSent {
		t.Error("nil error is not sent")
	}
	if Classify(context.DeadlineExceeded) != VerdictUncertain {
		t.Error("a timeout is not uncertain")
	}
	ge := &GraphError{Err: errors.New("reset")}
	if ge.CodeString() != "no_answer" || !errors.Is(ge, ge.Err) {
		t.Errorf("no-answer error: %q", ge.CodeString())
	}
	for _, tt := range []struct {
		e    GraphError
		want string
	}{{GraphError{Status: 400, Code: 100, Subcode: 2534014}, "100/2534014"}, {GraphError{Status: 400, Code: 4}, "4"}, {GraphError{Status: 502}, "http_502"}} {
		if got := tt.e.CodeString(); got != tt.want {
			t.Errorf("CodeString = %q, want %q", got, tt.want)
		}
	}
}
