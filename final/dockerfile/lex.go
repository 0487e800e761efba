package dockerfile

import (
	"fmt"
	"strings"
	"unicode"
)

// Vars looks a variable up for $NAME and ${NAME}: the build's ENV values
// first, then its ARGs. ok is false for a variable that is not set (it
// expands to nothing).
type Vars func(name string) (value string, ok bool)

// EnvVars looks names up in a KEY=VALUE list (an image config's Env).
func EnvVars(env []string) Vars {
	return func(name string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
				return v, true
			}
		}
		return "", false
	}
}

// region lex
// ExpandWord reads s as the builder reads the argument of WORKDIR, USER,
// a COPY path or an ENV value: 'single quotes' keep everything as it is,
// "double quotes" keep blanks but still expand $VAR, the escape character
// (\, or the backtick of the directive "# escape=`") takes the next character literally, and
// $NAME, ${NAME}, ${NAME:-default} and ${NAME:+alternative} are replaced
// by the variable's value. It is the shell's word processing without the
// shell: RUN's text is not read here, /bin/sh reads it in the container.
func ExpandWord(s string, escape rune, vars Vars) (string, error) {
	w, err := lex(s, escape, vars, false)
	if err != nil || len(w) == 0 {
		return "", err
	}
	return w[0], nil
}

// ExpandWords is ExpandWord that also splits s into words at blanks outside
// quotes: ENV A=1 B="two words" is [A=1, B=two words].
func ExpandWords(s string, escape rune, vars Vars) ([]string, error) {
	return lex(s, escape, vars, true)
}

// endregion lex

type lexer struct {
	s      []rune
	pos    int
	escape rune
	vars   Vars
	size   int // bytes produced so far: an ENV that doubles itself line after line stops at MaxLine
}

func lex(s string, escape rune, vars Vars, split bool) ([]string, error) {
	if escape == 0 {
		escape = '\\'
	}
	if vars == nil {
		vars = func(string) (string, bool) { return "", false }
	}
	l := &lexer{s: []rune(s), escape: escape, vars: vars}
	return l.words(split, 0)
}

// words reads until the end of the text (or, when stop is not 0, until an
// unescaped stop: the } of ${NAME:-word}).
func (l *lexer) words(split bool, stop rune) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	add := func(s string) error {
		l.size += len(s)
		if l.size > MaxLine {
			return fmt.Errorf("expands to more than %d bytes", MaxLine)
		}
		cur.WriteString(s)
		inWord = true
		return nil
	}
	for l.pos < len(l.s) {
		ch := l.s[l.pos]
		if stop != 0 && ch == stop {
			break
		}
		var err error
		switch {
		case split && unicode.IsSpace(ch):
			l.pos++
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == l.escape:
			l.pos++
			if l.pos == len(l.s) {
				err = add(string(ch)) // a trailing escape stays
				break
			}
			err = add(string(l.s[l.pos]))
			l.pos++
		case ch == '\'':
			var s string
			if s, err = l.single(); err == nil {
				err = add(s)
			}
			inWord = true
		case ch == '"':
			var s string
			if s, err = l.double(); err == nil {
				err = add(s)
			}
			inWord = true
		case ch == '$':
			var s string
			if s, err = l.dollar(); err == nil && s != "" {
				err = add(s) // an unset variable makes no word: COPY $NONE /x is COPY /x
			}
		default:
			l.pos++
			err = add(string(ch))
		}
		if err != nil {
			return nil, err
		}
	}
	if inWord || (!split && len(out) == 0) {
		out = append(out, cur.String())
	}
	return out, nil
}

// single reads '...': everything literal up to the next quote.
func (l *lexer) single() (string, error) {
	l.pos++
	start := l.pos
	for l.pos < len(l.s) && l.s[l.pos] != '\'' {
		l.pos++
	}
	if l.pos == len(l.s) {
		return "", fmt.Errorf("unexpected end of statement while looking for matching single-quote")
	}
	s := string(l.s[start:l.pos])
	l.pos++
	return s, nil
}

// double reads "...": $ expands, the escape character escapes only ", $
// and itself (anything else keeps the escape character, as sh does).
func (l *lexer) double() (string, error) {
	l.pos++
	var b strings.Builder
	for l.pos < len(l.s) {
		ch := l.s[l.pos]
		switch {
		case ch == '"':
			l.pos++
			return b.String(), nil
		case ch == l.escape && l.pos+1 < len(l.s):
			next := l.s[l.pos+1]
			if next != '"' && next != '$' && next != l.escape {
				b.WriteRune(ch)
			}
			b.WriteRune(next)
			l.pos += 2
		case ch == '$':
			s, err := l.dollar()
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		default:
			b.WriteRune(ch)
			l.pos++
		}
		if b.Len() > MaxLine {
			return "", fmt.Errorf("expands to more than %d bytes", MaxLine)
		}
	}
	return "", fmt.Errorf("unexpected end of statement while looking for matching double-quote")
}

// dollar reads $NAME or ${NAME[:-word|:+word|-word|+word]}.
func (l *lexer) dollar() (string, error) {
	l.pos++ // $
	if l.pos == len(l.s) {
		return "$", nil
	}
	if l.s[l.pos] != '{' {
		name := l.name()
		if name == "" {
			return "$", nil // a $ that starts no name is a $
		}
		v, _ := l.vars(name)
		return v, nil
	}
	l.pos++ // {
	name := l.name()
	if name == "" {
		return "", fmt.Errorf("bad substitution: ${ needs a variable name")
	}
	if l.pos == len(l.s) {
		return "", fmt.Errorf("missing '}' after ${%s", name)
	}
	if l.s[l.pos] == '}' {
		l.pos++
		v, _ := l.vars(name)
		return v, nil
	}
	colon := false
	if l.s[l.pos] == ':' {
		colon = true
		l.pos++
	}
	if l.pos == len(l.s) || (l.s[l.pos] != '-' && l.s[l.pos] != '+') {
		return "", fmt.Errorf("unsupported modifier in ${%s...}: only ${NAME:-default} and ${NAME:+alternative} (and - and + without the colon)", name)
	}
	op := l.s[l.pos]
	l.pos++
	word, err := l.words(false, '}')
	if err != nil {
		return "", err
	}
	if l.pos == len(l.s) {
		return "", fmt.Errorf("missing '}' in ${%s%c...", name, op)
	}
	l.pos++ // }
	v, set := l.vars(name)
	empty := !set || (colon && v == "")
	switch {
	case op == '-' && empty:
		return word[0], nil
	case op == '+' && !empty:
		return word[0], nil
	case op == '+':
		return "", nil
	}
	return v, nil
}

// name reads a variable name: a letter or _, then letters, digits, _.
func (l *lexer) name() string {
	start := l.pos
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (l.pos > start && c >= '0' && c <= '9') {
			l.pos++
			continue
		}
		break
	}
	return string(l.s[start:l.pos])
}
