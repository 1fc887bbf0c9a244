package yamlnode

import (
	"regexp"
	"strconv"
	"strings"
)

var syntaxLineRE = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// SyntaxError places a YAML syntax error from the yaml decoder (err, from decoding data)
// at a line and column, both 1-based, and returns its message without the "yaml: line N:"
// prefix. The decoder's own line is off by one for parser errors and has no column; the
// error's kind says what to look for: the unclosed '[' or '{' of a flow collection, the
// unclosed quote, the tab, the second ':' on the line. line is 0 when the error names no
// line (an unknown anchor: callers may look for it themselves).
func SyntaxError(data []byte, err error) (line, col int, msg string) {
	msg = err.Error()
	m := syntaxLineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, 0, strings.TrimPrefix(msg, "yaml: ")
	}
	line, _ = strconv.Atoi(m[1])
	msg = m[2]
	lines := strings.Split(string(data), "\n")
	text := func(l int) string {
		if l >= 1 && l <= len(lines) {
			return lines[l-1]
		}
		return ""
	}
	switch {
	case strings.HasPrefix(msg, "did not find expected ',' or ']'"), strings.HasPrefix(msg, "did not find expected ',' or '}'"):
		if l, c, open, ok := unclosed(data); ok && open != '"' && open != '\'' {
			return l, c, msg + " (unclosed '" + string(open) + "')"
		}
		line++
	case strings.HasPrefix(msg, "found unexpected end of stream"):
		if l, c, open, ok := unclosed(data); ok {
			if open == '"' || open == '\'' {
				return l, c, "unclosed quote (" + msg + ")"
			}
			return l, c, msg + " (unclosed '" + string(open) + "')"
		}
	case strings.HasPrefix(msg, "found a tab character"):
		for l := max(line, 1); l <= len(lines); l++ {
			lead := text(l)[:len(text(l))-len(strings.TrimLeft(text(l), " \t"))]
			if i := strings.IndexByte(lead, '\t'); i >= 0 {
				return l, i + 1, msg
			}
		}
	case strings.HasPrefix(msg, "did not find expected"):
		// A parser error: the decoder reports its 0-based line.
		line++
	case strings.HasPrefix(msg, "mapping values are not allowed"):
		// The ':' that cannot start a value: the second on the line, or the only one
		// (a key indented where no mapping may start).
		t := text(line)
		cols := colons(t)
		switch {
		case len(cols) >= 2:
			return line, cols[1] + 1, msg
		case len(cols) == 1:
			return line, cols[0] + 1, msg
		}
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		t := text(line)
		lead := t[:len(t)-len(strings.TrimLeft(t, " \t"))]
		if i := strings.IndexByte(lead, '\t'); i >= 0 {
			return line, i + 1, msg + " (a tab in the indentation)"
		}
		if i := strings.IndexAny(t, "@`"); i >= 0 {
			return line, i + 1, msg
		}
	}
	t := text(line)
	return line, len(t) - len(strings.TrimLeft(t, " \t")) + 1, msg
}

// colons returns the byte offsets of the ':' in t that end a key (followed by a space or
// the line's end), outside quotes and before a comment.
func colons(t string) []int {
	var out []int
	var quote byte
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case (c == '"' || c == '\'') && tokenStart(t, i):
			quote = c
		case c == '#' && (i == 0 || t[i-1] == ' '):
			return out
		case c == ':' && (i+1 == len(t) || t[i+1] == ' '):
			out = append(out, i)
		}
	}
	return out
}

// tokenStart reports whether t[i] begins a token: at the line's start or after a space or
// a flow indicator.
func tokenStart(t string, i int) bool {
	return i == 0 || strings.IndexByte(" \t[{,:", t[i-1]) >= 0
}

// unclosed scans data for the innermost flow collection ('[', '{') or quoted scalar that
// is not closed where it must be: a bracket closed by the other kind, or still open at the
// end. It skips comments and the contents of quotes. ok is false when everything closes.
func unclosed(data []byte) (line, col int, open byte, ok bool) {
	type mark struct {
		line, col int
		c         byte
	}
	var stack []mark
	var quote *mark
	for li, t := range strings.Split(string(data), "\n") {
		for i := 0; i < len(t); i++ {
			c := t[i]
			if quote != nil {
				switch {
				case quote.c == '\'' && c == '\'' && i+1 < len(t) && t[i+1] == '\'':
					i++ // an escaped quote
				case quote.c == '"' && c == '\\':
					i++
				case c == quote.c:
					quote = nil
				}
				continue
			}
			switch {
			case c == '#' && (i == 0 || t[i-1] == ' ' || t[i-1] == '\t'):
				i = len(t)
			case (c == '"' || c == '\'') && tokenStart(t, i):
				quote = &mark{li + 1, i + 1, c}
			case c == '[' || c == '{':
				stack = append(stack, mark{li + 1, i + 1, c})
			case c == ']' || c == '}':
				if len(stack) == 0 {
					continue
				}
				top := stack[len(stack)-1]
				if (c == ']') != (top.c == '[') {
					return top.line, top.col, top.c, true
				}
				stack = stack[:len(stack)-1]
			}
		}
	}
	if quote != nil {
		return quote.line, quote.col, quote.c, true
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return top.line, top.col, top.c, true
	}
	return 0, 0, 0, false
}
