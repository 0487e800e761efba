//go:build linux

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The docs checks need no root: they read files only.
//
// A code excerpt in a chapter is written as
//
//	<!-- excerpt: step03-mnt-chroot/main.go#root -->
//	```go
//	...the lines between `// region root` and `// endregion root`...
//	```
//
// and must match the source, so a chapter can never quote code that no longer exists.

var (
	excerptRe = regexp.MustCompile(`^\s*<!--\s*excerpt:\s*(\S+)#(\S+)\s*-->\s*$`)
	regionRe  = regexp.MustCompile(`^\s*//\s*(region|endregion)\s+(\S+)\s*$`)
	chapterRe = regexp.MustCompile(`^0[1-9]-.*\.md$`)
	linkRe    = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// autolinkRe: <https://...>, a URL written as its own link text.
	autolinkRe = regexp.MustCompile(`<((?:https?|mailto):[^>\s]+)>`)
)

// missingLinkAllowlist names link targets that may be missing: chapters that a
// later issue writes. Keep it empty when possible; never link to a file that
// does not exist yet.
var missingLinkAllowlist = map[string]bool{}

// TestDocsExcerpts: every excerpt in docs/*.md equals its source region, and
// every step chapter (docs/01-... to docs/09-...) quotes the code at least once.
func TestDocsExcerpts(t *testing.T) {
	chapters, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if len(chapters) == 0 {
		t.Fatalf("no chapters in %s/docs", repoRoot)
	}
	for _, ch := range chapters {
		n, problems := checkExcerpts(repoRoot, ch)
		rel, _ := filepath.Rel(repoRoot, ch)
		for _, p := range problems {
			t.Errorf("%s: %s", rel, p)
		}
		if n == 0 && chapterRe.MatchString(filepath.Base(ch)) {
			t.Errorf("%s: a step chapter must quote its code with at least one `<!-- excerpt: PATH#REGION -->` block", rel)
		}
		t.Logf("%s: %d excerpts", rel, n)
	}
}

// TestDocsExcerptCheckerCatchesDrift: the checker itself fails on a wrong
// excerpt, a missing region, a missing file and a marker without a code block
// (so TestDocsExcerpts cannot pass by checking nothing).
func TestDocsExcerptCheckerCatchesDrift(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0755)
		if err := os.WriteFile(p, []byte(text), 0644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a/main.go", "package main\n\n// region r\nfunc f() {\n\t// region inner\n\tx := 1\n\t// endregion inner\n}\n\n// endregion r\n")
	good := "<!-- excerpt: a/main.go#r -->\n\n```go\nfunc f() {\n\tx := 1\n}\n```\n" +
		"<!-- excerpt: a/main.go#inner -->\n```go\n    x := 1   \n```\n"
	if n, p := checkExcerpts(root, write("docs/01-good.md", good)); n != 2 || len(p) != 0 {
		t.Errorf("a matching chapter: %d excerpts, problems %q; want 2 and none", n, p)
	}
	for name, chapter := range map[string]string{
		"wrong line":     "<!-- excerpt: a/main.go#r -->\n```go\nfunc f() {\n\tx := 2\n}\n```\n",
		"missing line":   "<!-- excerpt: a/main.go#r -->\n```go\nfunc f() {\n}\n```\n",
		"missing region": "<!-- excerpt: a/main.go#nope -->\n```go\n```\n",
		"missing file":   "<!-- excerpt: a/gone.go#r -->\n```go\n```\n",
		"no code block":  "<!-- excerpt: a/main.go#r -->\nsome prose\n",
		"unclosed block": "<!-- excerpt: a/main.go#r -->\n```go\nfunc f() {\n",
	} {
		if _, p := checkExcerpts(root, write("docs/02-bad.md", chapter)); len(p) == 0 {
			t.Errorf("%s: the checker found no problem", name)
		} else {
			t.Logf("%s: %s", name, p[0])
		}
	}
}

// TestDocsLinks: every relative link in docs/*.md, README.md, their Chinese
// versions (docs/zh/*.md, README.zh.md) and step*/README.md points to a file
// or folder that exists.
func TestDocsLinks(t *testing.T) {
	var files []string
	for _, pattern := range []string{"README.md", "README.zh.md", "docs/*.md", "docs/zh/*.md", "step*/README.md"} {
		m, _ := filepath.Glob(filepath.Join(repoRoot, pattern))
		files = append(files, m...)
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repoRoot, f)
		for _, l := range pageLinks(string(data)) {
			target := l.target
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			path := filepath.Join(filepath.Dir(f), target)
			checked++
			if _, err := os.Stat(path); err != nil {
				r, _ := filepath.Rel(repoRoot, path)
				if !missingLinkAllowlist[r] {
					t.Errorf("%s:%d: link to %s: no such file", rel, l.line, l.target)
				}
			}
		}
	}
	t.Logf("%d files, %d relative links", len(files), checked)
}

// pageLink is a link target of a page and the line it is on.
type pageLink struct {
	line   int
	target string
}

// pageLinks returns the targets of a page's links, [text](target) and
// <https://...>, outside code fences, in the order they appear.
func pageLinks(text string) []pageLink {
	var links []pageLink
	inFence := false
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		// both kinds, in the order they stand on the line
		found := append(linkRe.FindAllStringSubmatchIndex(line, -1), autolinkRe.FindAllStringSubmatchIndex(line, -1)...)
		sort.Slice(found, func(a, b int) bool { return found[a][0] < found[b][0] })
		for _, m := range found {
			links = append(links, pageLink{i + 1, line[m[2]:m[3]]})
		}
	}
	return links
}

// checkExcerpts checks one chapter against the sources under root; it
// returns how many excerpts it found and what is wrong with them.
func checkExcerpts(root, chapter string) (int, []string) {
	data, err := os.ReadFile(chapter)
	if err != nil {
		return 0, []string{err.Error()}
	}
	lines := strings.Split(string(data), "\n")
	var problems []string
	n := 0
	for i := 0; i < len(lines); i++ {
		m := excerptRe.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		n++
		where := fmt.Sprintf("line %d, excerpt %s#%s", i+1, m[1], m[2])
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j == len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[j]), "```") {
			problems = append(problems, where+": not followed by a ``` code block")
			continue
		}
		k := j + 1
		for k < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[k]), "```") {
			k++
		}
		if k == len(lines) {
			problems = append(problems, where+": the code block is never closed")
			continue
		}
		shown := lines[j+1 : k]
		i = k
		want, err := region(filepath.Join(root, m[1]), m[2])
		if err != nil {
			problems = append(problems, where+": "+err.Error())
			continue
		}
		if d := shortDiff(normalize(want), normalize(shown)); d != "" {
			problems = append(problems, where+": differs from the source (-source +chapter):\n"+d)
		}
	}
	return n, problems
}

// region returns the lines between `// region NAME` and `// endregion NAME`,
// without those markers and without the markers of regions nested inside.
func region(path, name string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("source file: %v", err)
	}
	var out []string
	inside, found := false, false
	for _, line := range strings.Split(string(data), "\n") {
		m := regionRe.FindStringSubmatch(line)
		switch {
		case m != nil && m[2] == name && m[1] == "region":
			if found {
				return nil, fmt.Errorf("region %q appears twice in %s", name, path)
			}
			inside, found = true, true
		case m != nil && m[2] == name && m[1] == "endregion":
			if !inside {
				return nil, fmt.Errorf("no `// region %s` before `// endregion %s` in %s", name, name, path)
			}
			inside = false
		case m != nil:
			// a nested marker: not part of the code a reader sees
		case inside:
			out = append(out, line)
		}
	}
	if !found {
		return nil, fmt.Errorf("no `// region %s` in %s", name, path)
	}
	if inside {
		return nil, fmt.Errorf("`// region %s` is never closed in %s", name, path)
	}
	return out, nil
}

// normalize drops trailing whitespace, leading and trailing blank lines, and
// the indentation common to all lines.
func normalize(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.TrimRight(l, " \t\r"))
	}
	for len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	prefix := ""
	first := true
	for _, l := range out {
		if l == "" {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = indent, false
			continue
		}
		for !strings.HasPrefix(indent, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	for i, l := range out {
		out[i] = strings.TrimPrefix(l, prefix)
	}
	return out
}

// shortDiff shows where two texts first differ, with a few lines of each;
// "" when they are equal.
func shortDiff(want, got []string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	if i == len(want) && i == len(got) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  first difference at excerpt line %d\n", i+1)
	if i > 0 {
		fmt.Fprintf(&b, "   %s\n", want[i-1])
	}
	for j := i; j < len(want) && j < i+3; j++ {
		fmt.Fprintf(&b, "  -%s\n", want[j])
	}
	for j := i; j < len(got) && j < i+3; j++ {
		fmt.Fprintf(&b, "  +%s\n", got[j])
	}
	return strings.TrimRight(b.String(), "\n")
}
