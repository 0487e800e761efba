package build

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// region dockerignore
// Ignore is a context's .dockerignore: one pattern a line (# comments),
// relative to the context's root, with * and ? inside one path component,
// ** across components, and !pattern to take a path back. The last
// pattern that matches a path (or one of its parent directories) decides:
// "node_modules" leaves out the directory and everything in it,
// "*.md" then "!README.md" leaves out every .md at the top but README.md.
// The CLI applies it before it sends the context (so an ignored secret
// never leaves the machine); the builder applies it again to what it
// copies.
type Ignore struct {
	patterns   []ignorePattern
	exceptions bool // some pattern starts with !: an ignored directory may hold a path taken back
}

type ignorePattern struct {
	text      string
	re        *regexp.Regexp
	exception bool
}

// endregion dockerignore

// MaxIgnore bounds a .dockerignore (bytes): it is read from a stranger's context.
const MaxIgnore = 1 << 20

// ParseIgnore reads a .dockerignore.
func ParseIgnore(r io.Reader) (*Ignore, error) {
	ig := &Ignore{}
	sc := bufio.NewScanner(io.LimitReader(r, MaxIgnore))
	sc.Buffer(make([]byte, 64<<10), MaxIgnore)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{}
		if strings.HasPrefix(line, "!") {
			p.exception, line = true, strings.TrimSpace(line[1:])
			ig.exceptions = true
		}
		line = strings.TrimPrefix(path.Clean("/"+line), "/")
		if line == "" {
			continue
		}
		re, err := ignoreRegexp(line)
		if err != nil {
			return nil, fmt.Errorf(".dockerignore line %d: %q: %v", n, line, err)
		}
		p.text, p.re = line, re
		ig.patterns = append(ig.patterns, p)
	}
	return ig, sc.Err()
}

// ignoreRegexp turns a pattern into a regular expression over a whole
// slash-separated path.
func ignoreRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			i++
			if i+1 < len(p) && p[i+1] == '/' { // **/ : any number of directories, none included
				i++
				b.WriteString("(.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated [")
			}
			class := p[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Excluded tells whether the path (relative to the context, with
// slashes) is left out.
func (ig *Ignore) Excluded(rel string) bool {
	if ig == nil || len(ig.patterns) == 0 {
		return false
	}
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	if rel == "" {
		return false
	}
	excluded := false
	for _, p := range ig.patterns {
		if p.matches(rel) {
			excluded = !p.exception
		}
	}
	return excluded
}

// matches: the path itself, or one of its parent directories.
func (p ignorePattern) matches(rel string) bool {
	if p.re.MatchString(rel) {
		return true
	}
	for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
		if p.re.MatchString(dir) {
			return true
		}
	}
	return false
}

// SkipDir tells whether a walk may skip an excluded directory whole: it
// may unless some ! pattern could take a path inside it back.
func (ig *Ignore) SkipDir(rel string) bool {
	return ig.Excluded(rel) && !ig.exceptions
}
