package replier

import "github.com/replywindow/replywindow/shared/reply"

// attribute writes onto n what answers the comment: the rule, the person's variant and, once a
// send may have been made, the text as rendered for the person. Every write of this worker
// carries it, so the record that ends SENT names exactly what its last attempt sent; a record
// that never tried to send keeps no text (it would be personal data for nothing).
func (w *work) attribute(n reply.Record) reply.Record {
	if w.rule.Name == "" {
		return n
	}
	n.Rule, n.Variant = w.rule.Name, w.variant
	if w.renderErr == nil && (n.State == reply.StateSent || n.Attempts > 0) {
		n.Sent = w.text
	}
	return n
}
