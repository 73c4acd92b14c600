package reply

import "time"

// Media is one of an account's posts, reels or broadcasts as Meta lists it
// (GET /{ig-id}/media, GET /{ig-id}/live_media).
type Media struct {
	ID            string
	ProductType   string // Meta's media_product_type: FEED, REELS, STORY, AD, LIVE
	CommentsCount int    // Meta's comments_count, replies included
	CreatedAt     time.Time
}

// Comment is a comment as Meta lists it under its media (GET /{media-id}/comments): the
// top-level comments, each with the replies made to it.
type Comment struct {
	ID        string
	Text      string
	FromID    string // the commenter's Instagram-scoped id, as in a webhook's from.id
	Username  string
	ParentID  string    // set on a reply to a comment
	CreatedAt time.Time // Meta's timestamp: the comment's true creation time
	Replies   []Comment // replies to a top-level comment, newest first
	// RepliesAfter is Meta's cursor of the replies that follow Replies (Meta nests a page of
	// them), "" when Replies holds them all: GET /{comment-id}/replies goes on from it.
	RepliesAfter string
}

// Page is one page of a Graph listing, newest first. After is Meta's cursor of the next page,
// "" on the last one. Usage and RegainAfter are what Meta's usage headers said (see SendResult).
type Page[T any] struct {
	Items       []T
	After       string
	Usage       int
	RegainAfter time.Duration
}

// LaneReads is the account's budget of Graph reads (reconciliation and backfill). It is not a
// reply lane and not in Lanes: replies keep their own lanes, and a busy reconciler can never
// take a private reply's token.
const LaneReads Lane = "reads"

// KindOf is the kind of a (non-Live) comment on media of Meta's media_product_type, with the
// ad's id when the webhook named one. An ad wins over the reel or post it promotes: the ad is
// what the comment answers, and rules may single ads out.
func KindOf(productType, adID string) Kind {
	switch {
	case adID != "" || productType == "AD":
		return KindAd
	case productType == "REELS":
		return KindReel
	}
	return KindPost
}
