package graph

import (
	"strings"
	"time"
)

// Version is a Graph API version and the last day Meta serves it.
type Version struct {
	Name           string
	AvailableUntil time.Time // zero: not announced yet (the newest versions)
}

// Versions is Meta's published end of availability of the Graph API versions replywindow may be
// configured with. Source: developers.facebook.com/docs/graph-api/changelog/versions (Meta's
// rule: a version is served until two years after the next one's release), as design.md §2 has
// it (v20 ended Sep 2026, v21 Jan 2027, v22 May 2027, v25 Jul 2028). Where Meta's table gives a
// month only, the first of that month is used, so a warning comes early rather than late. Update
// it with each release.
var Versions = []Version{
	{"v20.0", day(2026, 9, 24)},
	{"v21.0", day(2027, 1, 21)},
	{"v22.0", day(2027, 5, 29)},
	{"v23.0", day(2027, 10, 8)},
	{"v24.0", day(2028, 2, 1)},
	{"v25.0", day(2028, 7, 1)},
	{"v26.0", time.Time{}},
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// VersionInfo is what Versions says of v ("v24.0" or "24.0"); ok is false for a version the
// table does not know (too old to be listed, or newer than the table).
func VersionInfo(v string) (Version, bool) {
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	for _, x := range Versions {
		if x.Name == v {
			return x, true
		}
	}
	return Version{}, false
}

// Version is the API version the client calls.
func (c *Client) Version() string { return c.version }
