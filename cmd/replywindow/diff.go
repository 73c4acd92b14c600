package main

import (
	"fmt"
	"strings"
)

// opLineDiff is a unified-style diff of two texts by lines ("-" stored, "+" the file), with
// context lines around each change; "" when they are equal.
func opLineDiff(oldText, newText string, context int) string {
	a, b := strings.Split(strings.TrimRight(oldText, "\n"), "\n"), strings.Split(strings.TrimRight(newText, "\n"), "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte // ' ', '-', '+'
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', a[i]}) // what goes before what comes
			i++
		default:
			lines = append(lines, line{'+', b[j]})
			j++
		}
	}
	show := make([]bool, len(lines))
	changed := false
	for k, l := range lines {
		if l.op == ' ' {
			continue
		}
		changed = true
		for c := max(0, k-context); c <= min(len(lines)-1, k+context); c++ {
			show[c] = true
		}
	}
	if !changed {
		return ""
	}
	var out strings.Builder
	for k, l := range lines {
		if !show[k] {
			if k > 0 && show[k-1] {
				out.WriteString("  ...\n")
			}
			continue
		}
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
	}
	return out.String()
}
