package reply

import "testing"

func TestJobField(t *testing.T) {
	tests := []struct {
		job  Job
		want string
	}{
		{Job{Kind: KindPost}, FieldComments},
		{Job{Kind: KindReel}, FieldComments},
		{Job{Kind: KindLive}, FieldLiveComments},
		{Job{Event: &Event{Kind: EventMessage}}, FieldMessages},
		{Job{Event: &Event{Kind: EventQuickReply}}, FieldMessages},
		{Job{Event: &Event{Kind: EventEcho}}, FieldMessages},
		{Job{Event: &Event{Kind: EventPostback}}, FieldPostbacks},
		{Job{Event: &Event{Kind: EventReaction}}, FieldReactions},
		{Job{FollowUp: &FollowUp{}}, ""},
	}
	for _, tt := range tests {
		if got := JobField(tt.job); got != tt.want {
			t.Errorf("JobField(%+v) = %q, want %q", tt.job, got, tt.want)
		}
	}
}
