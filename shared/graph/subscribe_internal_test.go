package graph

import (
	"errors"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestRefusedField: the field a refusal of a subscription names, in each shape Meta's message may
// take (the value got, the parameter's index, the field quoted), and none when the refusal is
// not about a field.
func TestRefusedField(t *testing.T) {
	asked := []string{"comments", "messages", "messaging_reactions"}
	meta := func(code int, msg string) error { return &reply.GraphError{Status: 400, Code: code, Message: msg} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"the value got", meta(100, `(#100) Param subscribed_fields[2] must be one of {comments, messages} - got "messaging_reactions"`), "messaging_reactions"},
		{"the index alone", meta(100, `(#100) Param subscribed_fields[1] is not a valid value`), "messages"},
		{"quoted", meta(100, `(#100) Invalid subscribed field 'messaging_reactions'`), "messaging_reactions"},
		{"got a field not asked, by its index", meta(100, `(#100) Param subscribed_fields[0] must be one of {x} - got "other"`), "comments"},
		{"an index out of range", meta(100, `(#100) Param subscribed_fields[7] is not valid`), ""},
		{"the parameter missing", meta(100, `(#100) The parameter subscribed_fields is required`), ""},
		{"another code", meta(190, `Error validating access token: got "messages"`), ""},
		{"no Meta error", errors.New(`got "messages"`), ""},
	}
	for _, tt := range tests {
		if got := refusedField(tt.err, asked); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
