package conversation

import "github.com/replywindow/replywindow/shared/reply"

// Entry points' counts (EMF, namespace ReplyWindow, dimension Function=replier): one counter per
// entry kind, counted when the entry's step is claimed, so a duplicate or retried delivery,
// which meets the claimed records, never counts twice.
var entryMetrics = map[string]string{
	reply.EntryStoryMention: "StoryMentionsAnswered",
	reply.EntryRef:          "RefsAnswered",
	reply.EntryIceBreaker:   "IceBreakersAnswered",
	reply.EntryMenu:         "MenuTapsAnswered",
}

// MetricRefUnmapped counts ig.me refs no ref rule takes: nothing is sent for the ref (a message
// carrying it is still answered as any message).
const MetricRefUnmapped = "RefsUnmapped"

// ReasonUnknownRef: a referral whose ref no ref rule takes.
const ReasonUnknownRef = "unknown_ref"

// maxLoggedRef bounds what a log line quotes of a ref (Meta allows 2,083 characters).
const maxLoggedRef = 64

// entryAnswered counts the claimed step of an entry point.
func (s *Service) entryAnswered(acct reply.Account, ev reply.Event, rule string) {
	if kind := acct.EntryOf(ev); kind != "" {
		s.m.Count(entryMetrics[kind], 1)
		s.log.Info("entry point answered", "account", acct.ID, "entry", kind, "rule", rule)
	}
}

// refUnmapped counts and logs a ref no rule takes, once per event: only when the event moved the
// person's window (moved), which a redelivery does not. A referral older than the person's
// latest message (out of order, or in the same millisecond) moves nothing and is not counted.
func (s *Service) refUnmapped(acct reply.Account, ev reply.Event, moved bool) {
	if ev.Ref == "" || !moved {
		return
	}
	if _, mapped := acct.RefRule(ev.Ref); mapped {
		return
	}
	ref := ev.Ref
	if len(ref) > maxLoggedRef {
		ref = ref[:maxLoggedRef] + "…"
	}
	s.m.Count(MetricRefUnmapped, 1)
	s.log.Info("ref skipped: no ref rule takes it", "account", acct.ID, "ref", ref)
}
