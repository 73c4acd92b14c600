package sandbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestSendFaults: queued faults answer the Send API and profile calls about a person (or anyone)
// in order; a fault that delivers first leaves the message, unanswered, in the ledger, with its
// echo, as Meta would have sent it.
func TestSendFaults(t *testing.T) {
	tests := []struct {
		name    string
		op      sandbox.Op
		person  string // whom the fault is queued for
		fault   sandbox.Fault
		want    string // the call's outcome
		sent    int    // messages in the ledger afterwards
		echoes  int
		profile bool // the call is a profile read
	}{
		{name: "5xx", op: sandbox.OpSend, person: person, fault: sandbox.ServerError(500), want: "1"},
		{name: "throttle, anyone", op: sandbox.OpSend, fault: sandbox.Throttle(), want: "613/2534040"},
		{name: "someone else's fault", op: sandbox.OpSend, person: "1254459154682999", fault: sandbox.ServerError(503), want: "ok", sent: 1, echoes: 1},
		{name: "dropped after delivery", op: sandbox.OpSend, person: person, fault: sandbox.DropAfter(), want: "no answer", sent: 1, echoes: 1},
		{name: "timeout before delivery", op: sandbox.OpSend, fault: sandbox.TimeoutBefore(), want: "no answer"},
		{name: "profile 5xx", op: sandbox.OpProfile, person: person, fault: sandbox.ServerError(502), want: "2", profile: true},
		{name: "a send's fault is not a profile's", op: sandbox.OpSend, person: person, fault: sandbox.ServerError(500), want: "ok", profile: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.c = graph.New(graph.WithBaseURL(e.srv.URL), graph.WithTimeout(300*time.Millisecond))
			e.sb.Message(igID, person, "hi")
			e.sb.QueueCallFault(tt.op, tt.person, tt.fault)
			var err error
			if tt.profile {
				_, err = e.c.Profile(context.Background(), igAccount, igToken, person)
			} else {
				_, err = e.c.SendMessage(context.Background(), igAccount, igToken, person, hello, "")
			}
			got := "no answer"
			var ge *reply.GraphError
			if err == nil || errors.As(err, &ge) && ge.Status != 0 {
				got = outcome(t, err)
			}
			if got != tt.want {
				t.Fatalf("outcome %s (%v), want %s", got, err, tt.want)
			}
			msgs := e.sb.Messages()
			if len(msgs) != tt.sent || len(e.sb.TakeEchoes()) != tt.echoes {
				t.Fatalf("ledger %+v, echoes", msgs)
			}
			if tt.sent == 1 && msgs[0].Answered != (tt.want == "ok") {
				t.Errorf("answered %v after %s", msgs[0].Answered, tt.want)
			}
			if n := e.sb.Stats().Faults; n != map[bool]int{true: 0, false: 1}[tt.want == "ok"] {
				t.Errorf("faults %d", n)
			}
		})
	}
}

// TestSendFaultHook: the fault hook is told the person and text of each Send API and profile call.
func TestSendFaultHook(t *testing.T) {
	e := newEnv(t)
	e.sb.Message(igID, person, "hi")
	var mu sync.Mutex
	var calls []sandbox.Call
	e.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, c)
		if c.Op == sandbox.OpSend && len(calls) == 1 {
			return sandbox.ServerError(500)
		}
		return sandbox.Fault{}
	})
	if got := e.dm(t, reply.Message{Text: "the link"}, ""); got != "1" {
		t.Fatalf("first send: %s", got)
	}
	if got := e.dm(t, reply.Message{Text: "the link"}, ""); got != "ok" {
		t.Fatalf("second send: %s", got)
	}
	if _, err := e.c.Profile(t.Context(), igAccount, igToken, person); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[0].PersonID != person || calls[0].Text != "the link" || calls[0].AccountID != igID ||
		calls[2].Op != sandbox.OpProfile || calls[2].PersonID != person || calls[2].CommentID != "" {
		t.Errorf("calls %+v", calls)
	}
}
