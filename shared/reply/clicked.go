package reply

import (
	"context"
	"time"
)

// Clicked is a person's first click on one tracked link, as their click record holds it: what
// the people export says of who clicked. It is personal data (the person's id, the link they
// opened), kept until the link expires (Click.Until) or either deletion removes it.
type Clicked struct {
	Account string
	Person  string
	Link    string // the link's id in counters (a hash of Target)
	Target  string
	Rule    string
	Variant string
	Media   string
	At      time.Time // the first click
}

// ClickRecords reads and removes the people's click records (ClickGuardKey): per account, never
// by scanning the table.
type ClickRecords interface {
	// ClickedBy pages through the account's click records in key order (a person's together),
	// at most limit a page.
	ClickedBy(ctx context.Context, account, cursor string, limit int) ([]Clicked, string, error)
	// ForgetClicks removes the person's click records of the account; it reports how many went
	// (0 when there were none).
	ForgetClicks(ctx context.Context, account, person string) (int, error)
}
