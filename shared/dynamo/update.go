package dynamo

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// update builds a SET expression with placeholders for every attribute: attribute names made of
// input (a conversation's step names, a webhook's field names) are never spliced into an
// expression. Conversations and the webhooks' W# item use it.
type update struct {
	sets   []string
	names  map[string]string
	values map[string]types.AttributeValue
	idx    map[string]int
}

func newUpdate() *update {
	return &update{names: map[string]string{}, values: map[string]types.AttributeValue{}, idx: map[string]int{}}
}

func (u *update) set(attr string, v types.AttributeValue) {
	i, ok := u.idx[attr]
	if !ok {
		i = len(u.idx)
		u.idx[attr] = i
		u.names[fmt.Sprintf("#a%d", i)] = attr
		u.sets = append(u.sets, fmt.Sprintf("#a%d = :v%d", i, i))
	}
	u.values[fmt.Sprintf(":v%d", i)] = v
}

func (u *update) name(attr string) string  { return fmt.Sprintf("#a%d", u.idx[attr]) }
func (u *update) value(attr string) string { return fmt.Sprintf(":v%d", u.idx[attr]) }
func (u *update) expr() string             { return "SET " + strings.Join(u.sets, ", ") }
