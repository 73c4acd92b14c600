package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/replywindow/replywindow/shared/reply"
)

// messengerProfile compares Meta's ice breakers and persistent menu with the account file's (the
// stored account, as `accounts put` left it): a tap on an item Meta shows and the file does not
// declare starts nothing, and an item the file declares and Meta lacks is never seen. A profile
// Meta will not show is a warning, not a failure: replies to comments still go out.
func (d *Doctor) messengerProfile(ctx context.Context, a reply.Account, token string) Check {
	c := Check{Name: "messenger profile"}
	file := a.MessengerProfile()
	meta, err := d.Meta.MessengerProfile(ctx, a, token)
	if err != nil {
		c.Status, c.Detail = Warn, "could not read Meta's ice breakers and menu: "+oneLine(err)
		switch reply.Classify(err) {
		case reply.VerdictAuth:
			c.Fix = "store a new token: replywindow accounts put --file <file> --token-stdin"
		case reply.VerdictAccount:
			c.Fix = "Meta refused the read: connect the account again granting the messaging permission, then replywindow accounts put --file <file> --token-stdin"
		default:
			c.Fix = "run doctor again; if it persists, check GRAPH_API_URL and the network to Meta"
		}
		return c
	}
	diff := reply.ProfileDiff(meta, file)
	switch {
	case len(diff) == 0 && file.Empty():
		c.Detail = "the file declares no ice breakers or menu, and Meta shows none"
	case len(diff) == 0:
		c.Detail = "Meta's match the file: " + profileSummary(file)
	case file.Empty():
		// accounts put leaves alone a profile the stored account never declared (another tool's).
		c.Status, c.Detail = Warn, "the file declares none, Meta shows "+profileSummary(meta)+" (their taps start nothing here): "+strings.Join(diff, "; ")
		c.Fix = "declare them in the account file (ice_breakers, persistent_menu) and replywindow accounts put --file <file>, or remove them in the tool that set them"
	default:
		c.Status, c.Detail = Warn, "Meta's differ from the file: "+strings.Join(diff, "; ")
		c.Fix = "replywindow accounts put --file <file> (sets them on Meta)"
	}
	return c
}

func profileSummary(p reply.MessengerProfile) string {
	return fmt.Sprintf("%d ice breaker(s), %d menu item(s)", len(p.IceBreakers), len(p.Menu))
}
