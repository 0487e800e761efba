//go:build linux

package tests

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// The Chinese edition: docs/zh/NAME.md for every docs/NAME.md, and
// README.zh.md for README.md. These checks read files only (no root).
//
// A Chinese page is the English page translated, so everything that is not
// prose must stay as it is. For every pair the drift checker (zhPairProblems)
// compares:
//   - the headings: the same sequence of levels (#, ##, ###, ...);
//   - the code blocks: byte-identical and in the same order, except mermaid
//     blocks, which must have the same graph shape (node ids and shapes, edges
//     with their arrow kind, subgraphs, participants, messages, notes); their
//     labels are translated;
//   - the links: the same targets in the same order, resolved from each page's
//     own folder; a Chinese page's link to docs/zh/X.md stands for the English
//     page's link to docs/X.md, and a Chinese page never links to an English
//     page; fragments (#anchor) are left out;
//   - the excerpt markers (<!-- excerpt: PATH#REGION -->), in the same order
//     (TestDocsZh checks them against the source with checkExcerpts);
//   - the tables: the same rows and cells per row; a cell that is only
//     commands (inline code) keeps the same commands in the same order
//     (between them "," or "、");
//   - the inline code: the same set of `spans` on both pages;
//   - the language-switch line (zhSwitchLine) on both pages;
//   - and that the Chinese page reads as Chinese: no paragraph, list item,
//     heading or table cell has zhMaxEnglishRun or more English words in a
//     row (untranslatedLines).

// zhMaxEnglishRun: a line of a Chinese page with this many English words in a
// row (not counting code, links' targets, names and constants) is left in
// English. Names are short ("Docker Engine API", "UNIX Time-sharing System");
// an untranslated sentence is longer.
const zhMaxEnglishRun = 8

// zhNames are proper names of several plain words that a Chinese sentence
// keeps in English; they do not count as English words.
var zhNames = []string{
	"Docker Engine API", "Docker Desktop", "Docker Hub", "Open Container Initiative",
	"UNIX Time-sharing System", "System V", "Apple Silicon",
}

var (
	zhSwitchRe   = regexp.MustCompile(`^\[English\]\([^)]*\) \| \[中文\]\([^)]*\)$`)
	headingRe    = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	codeSpanRe   = regexp.MustCompile("`(?:\\\\`|[^`])+`")
	htmlCommentR = regexp.MustCompile(`<!--.*?-->`)
	htmlTagRe    = regexp.MustCompile(`</?[A-Za-z][^>]*>`)
	bareURLRe    = regexp.MustCompile(`\b(?:https?|mailto):\S+`)
	linkTargetRe = regexp.MustCompile(`\]\([^)]*\)`)
	englishWord  = regexp.MustCompile(`^[A-Za-z]+(?:['’-][A-Za-z]+)*$`)
)

// zhPages pairs every English page with its Chinese counterpart, as paths
// relative to the repository root: README.md and docs/*.md.
func zhPages(root string) (pairs [][2]string) {
	pairs = append(pairs, [2]string{"README.md", "README.zh.md"})
	en, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	sort.Strings(en)
	for _, p := range en {
		name := filepath.Base(p)
		pairs = append(pairs, [2]string{"docs/" + name, "docs/zh/" + name})
	}
	return pairs
}

// TestDocsZh: every English page has its Chinese version, and each pair
// passes the drift checker; the Chinese pages' excerpts match the source.
func TestDocsZh(t *testing.T) {
	pairs := zhPages(repoRoot)
	if len(pairs) < 2 {
		t.Fatalf("no chapters in %s/docs", repoRoot)
	}
	known := map[string]bool{}
	for _, pair := range pairs {
		en, zh := pair[0], pair[1]
		known[zh] = true
		_, err := os.Stat(filepath.Join(repoRoot, zh))
		if err != nil {
			t.Errorf("%s has no Chinese version: write %s", en, zh)
			continue
		}
		enText, err1 := os.ReadFile(filepath.Join(repoRoot, en))
		zhText, err2 := os.ReadFile(filepath.Join(repoRoot, zh))
		if err1 != nil || err2 != nil {
			t.Fatalf("%v %v", err1, err2)
		}
		problems := zhPairProblems(en, string(enText), zh, string(zhText))
		for _, p := range problems {
			t.Errorf("%s: %s", zh, p)
		}
		n, excerptProblems := checkExcerpts(repoRoot, filepath.Join(repoRoot, zh))
		for _, p := range excerptProblems {
			t.Errorf("%s: %s", zh, p)
		}
		t.Logf("%s: %d problems, %d excerpts", zh, len(problems), n)
	}
	orphans, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "zh", "*.md"))
	for _, o := range orphans {
		rel, _ := filepath.Rel(repoRoot, o)
		if !known[filepath.ToSlash(rel)] {
			t.Errorf("%s has no English page docs/%s", rel, filepath.Base(o))
		}
	}
}

// TestDocsZhMermaidSubset: the mermaid parser reads every diagram of the
// English pages, so a pair's shapes are compared, not skipped.
func TestDocsZhMermaidSubset(t *testing.T) {
	for _, pair := range zhPages(repoRoot) {
		data, err := os.ReadFile(filepath.Join(repoRoot, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		page := parseMarkdown(string(data))
		for _, b := range page.blocks {
			if b.info != "mermaid" {
				continue
			}
			shape, err := mermaidShape(b.body)
			if err != nil {
				t.Errorf("%s:%d: %v", pair[0], b.line, err)
			} else if len(shape) < 3 {
				t.Errorf("%s:%d: only %d statements read: %q", pair[0], b.line, len(shape), shape)
			}
		}
	}
}

// zhSwitchLine is the line, third on every page (after the `# title` line and
// a blank line, followed by a blank line), that links a page's two languages,
// relative to page: "[English](01-uts.md) | [中文](zh/01-uts.md)" on
// docs/01-uts.md, "[English](../01-uts.md) | [中文](01-uts.md)" on
// docs/zh/01-uts.md.
func zhSwitchLine(page, en, zh string) string {
	rel := func(to string) string {
		r, _ := filepath.Rel(path.Dir(page), to)
		return filepath.ToSlash(r)
	}
	return fmt.Sprintf("[English](%s) | [中文](%s)", rel(en), rel(zh))
}

// zhPairProblems compares an English page with its Chinese version (paths
// relative to the repository root, and their text) and says what differs.
func zhPairProblems(enRel, enText, zhRel, zhText string) []string {
	en, zh := parseMarkdown(enText), parseMarkdown(zhText)
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, p := range en.problems {
		add("English page %s: %s", enRel, p)
	}
	for _, p := range zh.problems {
		add("%s", p)
	}

	// the language-switch line, on both pages
	for _, side := range []struct {
		rel  string
		page mdPage
	}{{enRel, en}, {zhRel, zh}} {
		want := zhSwitchLine(side.rel, enRel, zhRel)
		l := side.page.lines
		if len(l) < 3 || !strings.HasPrefix(l[0], "# ") || l[1] != "" || l[2] != want || (len(l) > 3 && l[3] != "") {
			got := "(none)"
			if len(l) >= 3 {
				got = l[2]
			}
			add("language-switch line: %s must start with the `# title` line, a blank line, %q and a blank line; line 3 is %q", side.rel, want, got)
		}
	}

	// headings
	if d := listDiff(headingLevels(en.headings), headingLevels(zh.headings)); d >= 0 {
		add("heading structure differs (English %d headings, Chinese %d): first difference at heading %d: English %s, Chinese %s",
			len(en.headings), len(zh.headings), d+1, headingAt(en.headings, d), headingAt(zh.headings, d))
	}

	// code blocks and mermaid shapes
	if len(en.blocks) != len(zh.blocks) {
		add("code blocks: English has %d, Chinese %d", len(en.blocks), len(zh.blocks))
	}
	for i := 0; i < len(en.blocks) && i < len(zh.blocks); i++ {
		e, z := en.blocks[i], zh.blocks[i]
		where := fmt.Sprintf("code block %d (English line %d, Chinese line %d)", i+1, e.line, z.line)
		switch {
		case e.info != z.info:
			add("%s: English ```%s, Chinese ```%s", where, e.info, z.info)
		case e.info == "mermaid":
			es, err1 := mermaidShape(e.body)
			zs, err2 := mermaidShape(z.body)
			if err1 != nil {
				add("%s: the English mermaid: %v", where, err1)
			}
			if err2 != nil {
				add("%s: the Chinese mermaid: %v", where, err2)
			}
			if err1 == nil && err2 == nil {
				if d := listDiff(es, zs); d >= 0 {
					add("%s: mermaid shape differs at statement %d: English %s, Chinese %s", where, d+1, itemAt(es, d), itemAt(zs, d))
				}
			}
		case e.body != z.body:
			add("%s: not the same code (-English +Chinese):\n%s", where,
				shortDiff(strings.Split(e.body, "\n"), strings.Split(z.body, "\n")))
		}
	}

	// links
	enLinks, zhLinks := resolvedLinks(enRel, en, false), resolvedLinks(zhRel, zh, true)
	for _, l := range zhLinks {
		if l.english {
			add("line %d: link to %s, an English page: link its Chinese version (docs/zh/NAME.md, README.zh.md)", l.line, l.raw)
		}
	}
	if d := listDiff(linkTargets(enLinks), linkTargets(zhLinks)); d >= 0 {
		add("links differ (English %d, Chinese %d): first difference at link %d: English %s, Chinese %s",
			len(enLinks), len(zhLinks), d+1, linkAt(enLinks, d), linkAt(zhLinks, d))
	}

	// excerpt markers
	if d := listDiff(en.excerpts, zh.excerpts); d >= 0 {
		add("excerpt markers differ at marker %d: English %s, Chinese %s", d+1, itemAt(en.excerpts, d), itemAt(zh.excerpts, d))
	}

	// tables
	if len(en.tables) != len(zh.tables) {
		add("tables: English has %d, Chinese %d", len(en.tables), len(zh.tables))
	}
	for i := 0; i < len(en.tables) && i < len(zh.tables); i++ {
		e, z := en.tables[i], zh.tables[i]
		where := fmt.Sprintf("table %d (English line %d, Chinese line %d)", i+1, e.line, z.line)
		if len(e.rows) != len(z.rows) {
			add("%s: English has %d rows, Chinese %d", where, len(e.rows), len(z.rows))
			continue
		}
		for r := range e.rows {
			if len(e.rows[r]) != len(z.rows[r]) {
				add("%s, row %d: English has %d cells, Chinese %d", where, r+1, len(e.rows[r]), len(z.rows[r]))
				continue
			}
			for c, cell := range e.rows[r] {
				zc := z.rows[r][c]
				if commandCell(cell) && (!commandCell(zc) || listDiff(codeSpanRe.FindAllString(cell, -1), codeSpanRe.FindAllString(zc, -1)) >= 0) {
					add("%s, row %d, cell %d: a cell of commands keeps its commands, in their order, and nothing else: English %q, Chinese %q", where, r+1, c+1, cell, zc)
				}
			}
		}
	}

	// inline code
	enCode, zhCode := codeSpans(en), codeSpans(zh)
	if missing := setMinus(enCode, zhCode); len(missing) > 0 {
		add("inline code of the English page missing on the Chinese page: %s", strings.Join(firstN(missing, 5), " "))
	}
	if extra := setMinus(zhCode, enCode); len(extra) > 0 {
		add("inline code on the Chinese page that the English page does not have: %s", strings.Join(firstN(extra, 5), " "))
	}

	// readable in Chinese
	for _, u := range untranslatedLines(zh) {
		add("%s", u)
	}
	return problems
}

// A parsed page: what the drift checker compares.
type mdPage struct {
	lines    []string
	headings []mdHeading
	blocks   []mdBlock
	tables   []mdTable
	excerpts []string // PATH#REGION of each excerpt marker
	prose    []mdProse
	problems []string
}

type mdHeading struct {
	line, level int
	text        string
}

type mdBlock struct {
	line int
	info string // the fence's info string: go, sh, mermaid, ...
	body string // the lines between the fences
}

type mdTable struct {
	line int
	rows [][]string // cells, trimmed; the |---| row included
}

// mdProse is text outside code blocks: a paragraph or list item (its lines
// joined), a heading, or one cell of a table row; line is where it starts.
type mdProse struct {
	line int
	text string
}

var listItemRe = regexp.MustCompile(`^\s*(?:[-*+]|\d+\.)\s`)

func parseMarkdown(text string) mdPage {
	p := mdPage{lines: strings.Split(text, "\n")}
	var table *mdTable
	para := -1 // index in p.prose of the paragraph being read, or -1
	for i := 0; i < len(p.lines); i++ {
		line := p.lines[i]
		trimmed := strings.TrimSpace(line)
		if !strings.HasPrefix(trimmed, "|") {
			table = nil
		}
		// a paragraph (or list item) goes on until a blank line, a new list
		// item or another kind of line; code spans may cross its lines
		if trimmed == "" || listItemRe.MatchString(line) || strings.HasPrefix(trimmed, "|") || strings.HasPrefix(trimmed, "```") ||
			strings.HasPrefix(trimmed, "#") || excerptRe.MatchString(line) || zhSwitchRe.MatchString(line) {
			para = -1
		}
		switch {
		case strings.HasPrefix(trimmed, "```"):
			j := i + 1
			for j < len(p.lines) && !strings.HasPrefix(strings.TrimSpace(p.lines[j]), "```") {
				j++
			}
			if j == len(p.lines) {
				p.problems = append(p.problems, fmt.Sprintf("line %d: a code block that is never closed", i+1))
			}
			p.blocks = append(p.blocks, mdBlock{i + 1, strings.TrimSpace(strings.TrimPrefix(trimmed, "```")),
				strings.Join(p.lines[i+1:min(j, len(p.lines))], "\n")})
			i = j
		case zhSwitchRe.MatchString(line):
			// compared on its own
		case excerptRe.MatchString(line):
			p.excerpts = append(p.excerpts, excerptRe.FindStringSubmatch(line)[1]+"#"+excerptRe.FindStringSubmatch(line)[2])
		case headingRe.MatchString(line):
			m := headingRe.FindStringSubmatch(line)
			p.headings = append(p.headings, mdHeading{i + 1, len(m[1]), m[2]})
			p.prose = append(p.prose, mdProse{i + 1, m[2]})
		case strings.HasPrefix(trimmed, "|"):
			if table == nil {
				p.tables = append(p.tables, mdTable{line: i + 1})
				table = &p.tables[len(p.tables)-1]
			}
			cells := tableCells(trimmed)
			table.rows = append(table.rows, cells)
			for _, c := range cells {
				p.prose = append(p.prose, mdProse{i + 1, c})
			}
		case trimmed == "":
		case para >= 0:
			p.prose[para].text += " " + trimmed
		default:
			p.prose = append(p.prose, mdProse{i + 1, trimmed})
			para = len(p.prose) - 1
		}
	}
	return p
}

// tableCells splits a table row at its unescaped |, without the outer ones.
func tableCells(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cell.WriteString(`\|`)
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// commandCell: a table cell that is only inline code (and the commas or
// slashes between), e.g. "`-m`, `--memory-swap`" or "`-m`、`--memory-swap`".
func commandCell(cell string) bool {
	rest := codeSpanRe.ReplaceAllString(cell, "")
	return rest != cell && strings.Trim(rest, " ,;/+、，；") == ""
}

func codeSpans(p mdPage) []string {
	seen := map[string]bool{}
	var spans []string
	for _, pr := range p.prose {
		for _, s := range codeSpanRe.FindAllString(htmlCommentR.ReplaceAllString(pr.text, ""), -1) {
			if !seen[s] {
				seen[s] = true
				spans = append(spans, s)
			}
		}
	}
	return spans
}

// A link, resolved: the target relative to the repository root (a URL as it
// is), without its fragment; on a Chinese page, docs/zh/X.md becomes
// docs/X.md and README.zh.md README.md, so both pages' lists compare.
type zhLink struct {
	line          int
	raw, resolved string
	english       bool // a Chinese page's link to an English page
}

func resolvedLinks(pageRel string, p mdPage, chinese bool) []zhLink {
	var out []zhLink
	for _, l := range pageLinks(strings.Join(p.lines, "\n")) {
		if zhSwitchRe.MatchString(p.lines[l.line-1]) {
			continue
		}
		target, _, _ := strings.Cut(l.target, "#")
		var r string
		switch {
		case strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:"):
			r = target
		case target == "":
			r = pageRel
		default:
			r = path.Clean(path.Join(path.Dir(pageRel), target))
		}
		english := false
		if chinese {
			switch {
			case r == "README.zh.md":
				r = "README.md"
			case strings.HasPrefix(r, "docs/zh/") && strings.HasSuffix(r, ".md") && !strings.Contains(strings.TrimPrefix(r, "docs/zh/"), "/"):
				r = "docs/" + strings.TrimPrefix(r, "docs/zh/")
			case r == "README.md" || path.Dir(r) == "docs" && strings.HasSuffix(r, ".md"):
				english = true
			}
		}
		out = append(out, zhLink{l.line, l.target, r, english})
	}
	return out
}

func linkTargets(links []zhLink) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.resolved
	}
	return out
}

func linkAt(links []zhLink, i int) string {
	if i >= len(links) {
		return "(none)"
	}
	return fmt.Sprintf("%s (line %d, resolves to %s)", links[i].raw, links[i].line, links[i].resolved)
}

func headingLevels(h []mdHeading) []string {
	out := make([]string, len(h))
	for i, x := range h {
		out[i] = strings.Repeat("#", x.level)
	}
	return out
}

func headingAt(h []mdHeading, i int) string {
	if i >= len(h) {
		return "(none)"
	}
	return fmt.Sprintf("%q (line %d)", strings.Repeat("#", h[i].level)+" "+h[i].text, h[i].line)
}

func itemAt(items []string, i int) string {
	if i >= len(items) {
		return "(none)"
	}
	return fmt.Sprintf("%q", items[i])
}

// listDiff is the index of the first difference of two lists, -1 if equal.
func listDiff(a, b []string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

func setMinus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("(and %d more)", len(s)-n))
	}
	return s
}

// untranslatedLines reports the lines (paragraphs, table cells) of a page with
// zhMaxEnglishRun or more English words in a row. Not counted: code, link
// targets, URLs, HTML, zhNames, and words that are names or constants rather
// than prose (PID, SIGKILL, VirtualBox: capitals after the first letter).
// Chinese characters and punctuation end a run; ASCII punctuation does not.
func untranslatedLines(p mdPage) []string {
	var out []string
	for _, pr := range p.prose {
		text := htmlCommentR.ReplaceAllString(pr.text, " ")
		text = codeSpanRe.ReplaceAllString(text, " ")
		text = linkTargetRe.ReplaceAllString(text, "] ")
		text = htmlTagRe.ReplaceAllString(text, " ")
		text = bareURLRe.ReplaceAllString(text, " ")
		for _, name := range zhNames {
			text = strings.ReplaceAll(text, name, " ")
		}
		run, longest, words := 0, 0, []string(nil)
		var current []string
		for _, chunk := range strings.Fields(text) {
			// a chunk may hold Chinese text and English words: split at the Chinese
			for _, part := range splitChinese(chunk) {
				if part == "" { // a Chinese character stood here
					run, current = 0, nil
					continue
				}
				w := strings.Trim(part, "()[]{}<>,.;:!?\"'*_~…—–-/\\")
				if !proseWord(w) {
					continue
				}
				run++
				current = append(current, w)
				if run > longest {
					longest, words = run, append([]string(nil), current...)
				}
			}
		}
		if longest >= zhMaxEnglishRun {
			out = append(out, fmt.Sprintf("line %d is not translated (%d English words in a row: %q)", pr.line, longest, strings.Join(words, " ")))
		}
	}
	return out
}

// splitChinese splits s at every Chinese character or Chinese punctuation
// mark, which becomes an empty part: "用re-exec的" -> "", "re-exec", "", "".
func splitChinese(s string) []string {
	var parts []string
	var b strings.Builder
	for _, r := range s {
		if chineseRune(r) {
			if b.Len() > 0 {
				parts = append(parts, b.String())
				b.Reset()
			}
			parts = append(parts, "")
			continue
		}
		b.WriteRune(r)
	}
	if b.Len() > 0 {
		parts = append(parts, b.String())
	}
	return parts
}

func chineseRune(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef) || r == '“' || r == '”'
}

// proseWord: w is an English word of prose: letters (with ' or - inside),
// lower case or capitalised. "PID", "SIGKILL", "VirtualBox", "v2", "/proc"
// are names, constants or paths.
func proseWord(w string) bool {
	if !englishWord.MatchString(w) {
		return false
	}
	for i, r := range w {
		if i > 0 && unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

// mermaidShape reads a mermaid diagram (the subset the docs use: flowchart or
// graph with subgraphs, nodes, chains of edges with labels; sequenceDiagram
// with participants, messages and notes) and returns its statements without
// their labels: "node hv [", "edge cli --> d", "message P ->> K", "note over P".
// Two diagrams that differ only in labels have the same shape.
func mermaidShape(src string) ([]string, error) {
	var shape []string
	kind := ""
	for n, raw := range strings.Split(src, "\n") {
		s := strings.TrimSuffix(strings.TrimSpace(raw), ";")
		if s == "" || strings.HasPrefix(s, "%%") {
			continue
		}
		fail := func(why string) ([]string, error) {
			return nil, fmt.Errorf("mermaid line %d %q: %s", n+1, s, why)
		}
		f := strings.Fields(s)
		if kind == "" {
			switch f[0] {
			case "flowchart", "graph":
				kind = "flowchart"
			case "sequenceDiagram":
				kind = "sequence"
			default:
				return fail("not a flowchart or sequenceDiagram")
			}
			shape = append(shape, strings.Join(f, " "))
			continue
		}
		if kind == "sequence" {
			item, err := sequenceStatement(s, f)
			if err != nil {
				return fail(err.Error())
			}
			shape = append(shape, item)
			continue
		}
		switch f[0] {
		case "end":
			shape = append(shape, "end")
		case "direction", "classDef", "class", "style", "linkStyle", "click":
			shape = append(shape, strings.Join(f, " "))
		case "subgraph":
			rest := strings.TrimSpace(strings.TrimPrefix(s, "subgraph"))
			c := &mermaidCursor{s: rest}
			id, _, err := c.node()
			if err != nil || strings.TrimSpace(c.s[c.i:]) != "" {
				return fail("a subgraph is `subgraph ID` or `subgraph ID[\"title\"]`")
			}
			shape = append(shape, "subgraph "+id)
		default:
			items, err := flowchartChain(s)
			if err != nil {
				return fail(err.Error())
			}
			shape = append(shape, items...)
		}
	}
	if kind == "" {
		return nil, fmt.Errorf("an empty mermaid block")
	}
	return shape, nil
}

var (
	seqParticipantRe = regexp.MustCompile(`^(participant|actor)\s+([^\s:]+)(?:\s+as\s+.*)?$`)
	seqMessageRe     = regexp.MustCompile(`^([^\s:>+-]+)\s*(--?>>|--?>|--?x|--?\))\s*([+-]?)\s*([^\s:]+)\s*(?::.*)?$`)
	seqNoteRe        = regexp.MustCompile(`^[Nn]ote\s+(over|left of|right of)\s+([^:]+?)\s*:.*$`)
)

func sequenceStatement(s string, f []string) (string, error) {
	if m := seqParticipantRe.FindStringSubmatch(s); m != nil {
		return m[1] + " " + m[2], nil
	}
	if m := seqNoteRe.FindStringSubmatch(s); m != nil {
		return "note " + m[1] + " " + strings.ReplaceAll(m[2], " ", ""), nil
	}
	if m := seqMessageRe.FindStringSubmatch(s); m != nil {
		return "message " + m[1] + " " + m[2] + m[3] + " " + m[4], nil
	}
	switch f[0] {
	case "loop", "alt", "else", "opt", "par", "and", "critical", "option", "break", "rect":
		return f[0], nil // the rest is a label (or a colour)
	case "end", "autonumber", "activate", "deactivate":
		return strings.Join(f, " "), nil
	}
	return "", fmt.Errorf("not a participant, message, note or block")
}

// flowchartChain reads `a["x"] --> b -- "y" --> c & d -->|z| e`: the nodes in
// order and an edge (from, arrow kind, to) for each link.
func flowchartChain(s string) ([]string, error) {
	c := &mermaidCursor{s: s}
	var items []string
	group := func() ([]string, error) {
		var ids []string
		for {
			id, shape, err := c.node()
			if err != nil {
				return nil, err
			}
			items = append(items, strings.TrimSpace("node "+id+" "+shape))
			ids = append(ids, id)
			c.space()
			if !c.eat("&") {
				return ids, nil
			}
		}
	}
	from, err := group()
	if err != nil {
		return nil, err
	}
	for c.space(); c.i < len(c.s); c.space() {
		kind, err := c.edge()
		if err != nil {
			return nil, err
		}
		to, err := group()
		if err != nil {
			return nil, err
		}
		for _, a := range from {
			for _, b := range to {
				items = append(items, "edge "+a+" "+kind+" "+b)
			}
		}
		from = to
	}
	return items, nil
}

// mermaidCursor reads a flowchart statement from left to right.
type mermaidCursor struct {
	s string
	i int
}

func (c *mermaidCursor) space() {
	for c.i < len(c.s) && (c.s[c.i] == ' ' || c.s[c.i] == '\t') {
		c.i++
	}
}

func (c *mermaidCursor) eat(tok string) bool {
	if strings.HasPrefix(c.s[c.i:], tok) {
		c.i += len(tok)
		return true
	}
	return false
}

// quoted reads a "..." label.
func (c *mermaidCursor) quoted() error {
	end := strings.IndexByte(c.s[c.i+1:], '"')
	if end < 0 {
		return fmt.Errorf("an unclosed \"")
	}
	c.i += end + 2
	return nil
}

var mermaidShapes = []struct{ open, close string }{
	{"[(", ")]"}, {"[[", "]]"}, {"((", "))"}, {"{{", "}}"}, {"([", "])"}, {"[/", "/]"}, {"[\\", "\\]"},
	{"[", "]"}, {"(", ")"}, {"{", "}"}, {">", "]"},
}

// node reads an id and its shape, if one follows: `hv["label"]` -> "hv", "[".
func (c *mermaidCursor) node() (id, shape string, err error) {
	c.space()
	start := c.i
	for c.i < len(c.s) && (c.s[c.i] == '_' || c.s[c.i] < 128 && (unicode.IsLetter(rune(c.s[c.i])) || unicode.IsDigit(rune(c.s[c.i])))) {
		c.i++
	}
	if c.i == start {
		return "", "", fmt.Errorf("a node id expected at %q", c.s[c.i:])
	}
	id = c.s[start:c.i]
	for _, sh := range mermaidShapes {
		if !c.eat(sh.open) {
			continue
		}
		c.space()
		if c.i < len(c.s) && c.s[c.i] == '"' {
			if err := c.quoted(); err != nil {
				return "", "", err
			}
			c.space()
			if !c.eat(sh.close) {
				return "", "", fmt.Errorf("%s expected after the label of %s", sh.close, id)
			}
		} else {
			end := strings.Index(c.s[c.i:], sh.close)
			if end < 0 {
				return "", "", fmt.Errorf("no %s closes the label of %s", sh.close, id)
			}
			c.i += end + len(sh.close)
		}
		return id, sh.open, nil
	}
	return id, "", nil
}

// edge reads an arrow, with its label (`-- "x" -->`, `-->|x|`), and returns
// its kind: --> --- -.-> -.- ==> === (with a leading < if it points back).
func (c *mermaidCursor) edge() (string, error) {
	arrow := c.arrowRun()
	if arrow == "" {
		return "", fmt.Errorf("an arrow expected at %q", c.s[c.i:])
	}
	if arrow == "--" || arrow == "-." || arrow == "==" { // a label, then the rest of the arrow
		c.space()
		if c.i < len(c.s) && c.s[c.i] == '"' {
			if err := c.quoted(); err != nil {
				return "", err
			}
			c.space()
		} else {
			for c.i < len(c.s) && !(strings.ContainsRune("-.=", rune(c.s[c.i])) && len(c.peekArrow()) >= 2) {
				c.i++
			}
		}
		rest := c.arrowRun()
		if rest == "" {
			return "", fmt.Errorf("the arrow %s is never closed", arrow)
		}
		arrow += rest
	}
	c.space()
	if c.eat("|") {
		if c.i < len(c.s) && c.s[c.i] == '"' {
			if err := c.quoted(); err != nil {
				return "", err
			}
			if !c.eat("|") {
				return "", fmt.Errorf("| expected after an edge label")
			}
		} else {
			end := strings.IndexByte(c.s[c.i:], '|')
			if end < 0 {
				return "", fmt.Errorf("an unclosed |edge label|")
			}
			c.i += end + 1
		}
	}
	style := "normal"
	switch {
	case strings.Contains(arrow, "."):
		style = "dotted"
	case strings.Contains(arrow, "="):
		style = "thick"
	}
	kinds := map[string][2]string{"normal": {"---", "-->"}, "dotted": {"-.-", "-.->"}, "thick": {"===", "==>"}}
	kind := kinds[style][0]
	if strings.HasSuffix(arrow, ">") {
		kind = kinds[style][1]
	}
	if strings.HasPrefix(arrow, "<") {
		kind = "<" + kind
	}
	return kind, nil
}

func (c *mermaidCursor) peekArrow() string {
	j := c.i
	for j < len(c.s) && strings.ContainsRune("-.=<>", rune(c.s[j])) {
		j++
	}
	return c.s[c.i:j]
}

func (c *mermaidCursor) arrowRun() string {
	a := c.peekArrow()
	c.i += len(a)
	return a
}

// TestDocsZhCheckerCatchesDrift: the drift checker reports nothing for a
// good pair (a translated mermaid label included), and each kind of drift
// when it is the only difference; and it finds the English prose of a real
// English page (so TestDocsZh cannot pass by checking nothing).
func TestDocsZhCheckerCatchesDrift(t *testing.T) {
	const en = "# 01 — A chapter\n\n[English](01-x.md) | [中文](zh/01-x.md)\n\n" +
		"Step: [step01](../step01-uts/README.md). Previous: [00](00-intro.md), and\n" +
		"the [API](https://docs.docker.com/engine/api/#section).\n\n" +
		"## What you will see\n\n" +
		"Run `go run ./step01-uts` and look at `hostname`:\n\n" +
		"<!-- excerpt: step01-uts/main.go#main -->\n```go\nfunc main() {}\n```\n\n" +
		"```mermaid\nflowchart LR\n  subgraph H[\"host\"]\n    a[\"client\"] -- \"REST API\" --> b[(\"daemon\")]\n  end\n  b -->|\"runs\"| c{\"runc\"}\n  c -.- a\n```\n\n" +
		"| flag | meaning |\n|---|---|\n| `-m`, `--memory` | the memory limit, in bytes |\n\n" +
		"### Pitfalls\n\n" +
		"```mermaid\nsequenceDiagram\n  participant P as parent\n  participant C as child\n  P->>C: clone + execve\n  C-->>P: exit status\n  Note over P: waits\n```\n\n" +
		"Next: [02](02-y.md).\n"
	const zh = "# 01 — 一章\n\n[English](../01-x.md) | [中文](01-x.md)\n\n" +
		"步骤：[step01](../../step01-uts/README.md)。上一章：[00](00-intro.md)，另见\n" +
		"[API](https://docs.docker.com/engine/api/#other)。\n\n" +
		"## 你会看到什么\n\n" +
		"运行 `go run ./step01-uts`，再看看 `hostname`。Docker Engine API 和写时复制（copy-on-write）都是名字，UNIX Time-sharing System 也是。\n\n" +
		"<!-- excerpt: step01-uts/main.go#main -->\n```go\nfunc main() {}\n```\n\n" +
		"```mermaid\nflowchart LR\n  subgraph H[\"宿主机\"]\n    a[\"客户端\"] -- \"REST 接口\" --> b[(\"守护进程\")]\n  end\n  b -->|\"运行\"| c{\"runc 运行时\"}\n  c -.- a\n```\n\n" +
		"| 选项 | 含义 |\n|---|---|\n| `-m`、`--memory` | 内存上限，单位为字节 |\n\n" +
		"### 常见问题\n\n" +
		"```mermaid\nsequenceDiagram\n  participant P as 父进程\n  participant C as 子进程\n  P->>C: clone + execve\n  C-->>P: 退出状态\n  Note over P: 等待\n```\n\n" +
		"下一章：[02](02-y.md)。\n"
	check := func(zhText string) []string {
		return zhPairProblems("docs/01-x.md", en, "docs/zh/01-x.md", zhText)
	}
	if p := check(zh); len(p) != 0 {
		t.Fatalf("a good pair: %q", p)
	}
	if p := check(strings.Replace(zh, "\"客户端\"", "\"client (客户端)\"", 1)); len(p) != 0 {
		t.Errorf("a changed mermaid label is not drift: %q", p)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"missing heading", "### 常见问题\n", "", "heading"},
		{"heading level", "### 常见问题", "## 常见问题", "heading"},
		{"changed code block", "func main() {}", "func main() { }", "code block"},
		{"code block language", "```go\nfunc", "```sh\nfunc", "code block"},
		{"mermaid edge target", "c -.- a", "c -.- b", "mermaid"},
		{"mermaid arrow kind", "c -.- a", "c --> a", "mermaid"},
		{"mermaid node id", "b -->|\"运行\"| c{", "b -->|\"运行\"| d{", "mermaid"},
		{"mermaid node shape", "b[(\"守护进程\")]", "b[\"守护进程\"]", "mermaid"},
		{"mermaid subgraph", "  end\n  b -->", "  b -->", "mermaid"},
		{"sequence message reversed", "P->>C: clone", "C->>P: clone", "mermaid"},
		{"sequence arrow", "C-->>P:", "C->>P:", "mermaid"},
		{"sequence participant", "participant C as 子进程", "participant D as 子进程", "mermaid"},
		{"mermaid that does not parse", "c -.- a", "c -.- ???", "mermaid"},
		{"different link", "(00-intro.md)", "(02-y.md)", "links differ"},
		{"link resolved elsewhere", "(../../step01-uts/README.md)", "(../step01-uts/README.md)", "links differ"},
		{"different URL", "https://docs.docker.com/engine/api/#other", "https://docs.docker.com/engine/#api", "links differ"},
		{"missing link", "另见\n[API](https://docs.docker.com/engine/api/#other)", "另见 API", "links differ"},
		{"link to the English page", "(00-intro.md)", "(../00-intro.md)", "English page"},
		{"missing switch line", "[English](../01-x.md) | [中文](01-x.md)\n\n", "", "language-switch"},
		{"switch line to another page", "[中文](01-x.md)", "[中文](02-x.md)", "language-switch"},
		{"switch line glued to the text", "[中文](01-x.md)\n\n", "[中文](01-x.md)\n", "language-switch"},
		{"missing excerpt marker", "<!-- excerpt: step01-uts/main.go#main -->\n", "", "excerpt"},
		{"other excerpt region", "main.go#main", "main.go#clone", "excerpt"},
		{"command cell changed", "| `-m`、`--memory` |", "| `-m` |", "cell of commands"},
		{"command cell translated", "| `-m`、`--memory` |", "| `-m` 或 `--memory` 选项 |", "cell of commands"},
		{"missing table row", "| `-m`、`--memory` | 内存上限，单位为字节 |\n", "", "rows"},
		{"inline code changed", "`hostname`", "`hostname -f`", "inline code"},
		{"untranslated paragraph", "## 你会看到什么\n\n", "## 你会看到什么\n\nThis paragraph was left in English and nobody noticed that it was.\n\n", "not translated"},
		{"untranslated table cell", "内存上限，单位为字节", "the memory limit, in bytes, of the container", "not translated"},
		{"untranslated heading", "## 你会看到什么", "## What you will see when you run it in a shell", "not translated"},
		{"unclosed code block", "func main() {}\n```\n\n```mermaid", "func main() {}\n\n```mermaid", "never closed"},
	} {
		bad := strings.Replace(zh, c.old, c.new, 1)
		if bad == zh {
			t.Fatalf("%s: the case changes nothing", c.name)
		}
		p := check(bad)
		found := false
		for _, x := range p {
			found = found || strings.Contains(x, c.want)
		}
		if !found {
			t.Errorf("%s: no problem mentioning %q: %q", c.name, c.want, p)
		} else {
			t.Logf("%s: %s", c.name, p[0])
		}
	}
	// the English page's own switch line is checked too
	if p := zhPairProblems("docs/01-x.md", strings.Replace(en, "[English](01-x.md) | [中文](zh/01-x.md)\n\n", "", 1), "docs/zh/01-x.md", zh); len(p) == 0 {
		t.Errorf("an English page without its switch line: no problem found")
	}
	// README.md and README.zh.md
	if got := zhSwitchLine("README.zh.md", "README.md", "README.zh.md"); got != "[English](README.md) | [中文](README.zh.md)" {
		t.Errorf("README's switch line: %q", got)
	}
	// a real English page, read as if it were the Chinese one, is English
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "01-uts.md"))
	if err != nil {
		t.Fatal(err)
	}
	if u := untranslatedLines(parseMarkdown(string(data))); len(u) < 20 {
		t.Errorf("docs/01-uts.md read as Chinese: only %d untranslated lines found", len(u))
	}
}
