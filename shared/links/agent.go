package links

import "strings"

// crawlers are user-agent tokens of link-preview fetchers, compared case-insensitively. Meta's
// crawlers (developers.facebook.com/docs/sharing/webmasters/web-crawlers) fetch a link when a DM
// carrying it is sent or shared: facebookexternalhit (previews), meta-externalagent and
// meta-externalfetcher, facebookcatalog, Facebot; the others are the previewers of other apps a
// link is pasted into, and search engines.
var crawlers = []string{
	"facebookexternalhit", "meta-externalagent", "meta-externalfetcher", "meta-externalads",
	"meta-webindexer", "facebookcatalog", "facebot", "facebookbot",
	"twitterbot", "slackbot", "whatsapp", "telegrambot", "discordbot", "linkedinbot",
	"skypeuripreview", "googlebot", "bingbot", "applebot", "pinterestbot", "embedly",
}

// Why a request to the click route is not counted as a click (Counts' answer); "" when it is.
const (
	NotClickHead     = "head"     // HEAD: a checker or a preview, never a person opening the link
	NotClickCrawler  = "crawler"  // a preview fetcher's user agent
	NotClickNoAgent  = "no_agent" // no User-Agent at all: every browser sends one
	NotClickPrefetch = "prefetch" // Sec-Purpose or Purpose: prefetch (a browser guessing)
)

// Counts says whether a request is a person's click: only a GET from a user agent that is not a
// crawler, and not a prefetch. It answers why not otherwise; headers' names are lower case (API
// Gateway's HTTP API hands them so).
func Counts(method string, headers map[string]string) (bool, string) {
	if method != "GET" {
		return false, NotClickHead
	}
	for _, h := range []string{"sec-purpose", "purpose", "x-purpose", "x-moz"} {
		if strings.Contains(strings.ToLower(headers[h]), "prefetch") {
			return false, NotClickPrefetch
		}
	}
	ua := strings.ToLower(headers["user-agent"])
	if strings.TrimSpace(ua) == "" {
		return false, NotClickNoAgent
	}
	for _, c := range crawlers {
		if strings.Contains(ua, c) {
			return false, NotClickCrawler
		}
	}
	return true, ""
}
