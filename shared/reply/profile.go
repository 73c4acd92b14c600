package reply

import (
	"fmt"
	"slices"
)

// The comparison of Meta's messenger profile with the file's: `accounts show` prints it and
// doctor warns with it, so both say the same thing.

// Equal reports whether p and q hold the same ice breakers and menu, in order; a nil list and an
// empty one are the same (Meta answers an unset field by leaving it out).
func (p MessengerProfile) Equal(q MessengerProfile) bool {
	return slices.Equal(p.IceBreakers, q.IceBreakers) && slices.Equal(p.Menu, q.Menu)
}

// ProfileDiff names each place where Meta's profile and the file's differ, one line per item
// ("ice_breakers[0]: Meta "Other?" → OTHER, file (none)"); none when they are Equal.
func ProfileDiff(meta, file MessengerProfile) []string {
	return append(diffItems("ice_breakers", meta.IceBreakers, file.IceBreakers, showIce),
		diffItems("persistent_menu", meta.Menu, file.Menu, showMenuItem)...)
}

// diffItems compares the lists place by place, a list that ends first holding zero items.
func diffItems[T comparable](name string, meta, file []T, show func(T) string) []string {
	var out []string
	for i := range max(len(meta), len(file)) {
		var m, f T
		if i < len(meta) {
			m = meta[i]
		}
		if i < len(file) {
			f = file[i]
		}
		if m != f {
			out = append(out, fmt.Sprintf("%s[%d]: Meta %s, file %s", name, i, show(m), show(f)))
		}
	}
	return out
}

// showIce is the ice breaker as a diff shows it: `"question" → PAYLOAD`, or (none).
func showIce(b IceBreaker) string {
	if b == (IceBreaker{}) {
		return "(none)"
	}
	return fmt.Sprintf("%q → %s", b.Question, b.Payload)
}

// showMenuItem is the menu item as a diff shows it: `"title" → PAYLOAD` (or its URL), or (none).
func showMenuItem(m MenuItem) string {
	switch {
	case m == (MenuItem{}):
		return "(none)"
	case m.Type == ButtonURL:
		return fmt.Sprintf("%q → %s", m.Title, m.URL)
	}
	return fmt.Sprintf("%q → %s", m.Title, m.Payload)
}
