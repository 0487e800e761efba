package dockerfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
)

// Bounds on a Dockerfile: far above any real one, far below what could
// hurt a daemon that reads a stranger's.
const (
	MaxDockerfile   = 1 << 20  // bytes in the file
	MaxLine         = 64 << 10 // one instruction (continuations joined), and what any of its words expands to
	MaxInstructions = 2000
)

// Error is a problem with a Dockerfile, at a line of it (0: a --change
// line, which has none).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("Dockerfile line %d: %s", e.Line, e.Msg)
}

// Errorf is an Error at the instruction's line.
func (in Instruction) Errorf(format string, a ...any) error {
	return &Error{Line: in.Line, Msg: fmt.Sprintf(format, a...)}
}

// Dockerfile is a parsed Dockerfile: the ARGs before the first FROM, and
// the stages, each a FROM and the instructions up to the next FROM.
type Dockerfile struct {
	Escape   rune   // \ or ` (# escape=`)
	Syntax   string // # syntax=..., recorded and otherwise ignored: this is the classic builder
	MetaArgs []Instruction
	Stages   []Stage
}

// Stage is FROM IMAGE [AS NAME] and what follows it.
type Stage struct {
	Name  string // lower case; "" when the FROM has no AS
	From  Instruction
	Steps []Instruction
}

// Known instructions, and which of them take a JSON list (the exec form).
var (
	known = map[string]bool{"FROM": true, "RUN": true, "CMD": true, "ENTRYPOINT": true, "ENV": true, "ARG": true,
		"LABEL": true, "WORKDIR": true, "USER": true, "EXPOSE": true, "VOLUME": true, "STOPSIGNAL": true, "SHELL": true,
		"COPY": true, "ADD": true, "ONBUILD": true, "MAINTAINER": true, "HEALTHCHECK": true}
	jsonForm = map[string]bool{"RUN": true, "CMD": true, "ENTRYPOINT": true, "SHELL": true, "COPY": true, "ADD": true, "VOLUME": true}
	// flags each instruction accepts (--name=value before its arguments)
	flagsOf = map[string]map[string]bool{
		"FROM": {"platform": true},
		"COPY": {"from": true, "chown": true, "chmod": true},
		"ADD":  {"chown": true, "chmod": true},
		"RUN":  {},
	}
	directiveRe = regexp.MustCompile(`^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.*?)[ \t]*$`)
	stageNameRe = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
)

// region parse
// Parse reads a Dockerfile the way Docker's classic builder does:
//   - parser directives first (# escape=` and # syntax=...), only at the
//     very top;
//   - a line whose first non-blank character is # is a comment, anywhere
//     (inside a continued instruction too);
//   - a line ending in the escape character continues on the next line
//     (the escape character and the newline are dropped);
//   - each instruction is a word (any case) and its arguments; FROM starts
//     a stage, and only ARG may come before the first FROM.
//
// Every error names the line. The file, each instruction and their number
// are bounded (MaxDockerfile, MaxLine, MaxInstructions).
func Parse(r io.Reader) (*Dockerfile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDockerfile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxDockerfile {
		return nil, &Error{Msg: fmt.Sprintf("the Dockerfile is larger than %d bytes", MaxDockerfile)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	lines := strings.Split(string(data), "\n")
	d := &Dockerfile{Escape: '\\'}
	i := 0
	seen := map[string]bool{}
	for ; i < len(lines); i++ { // directives
		m := directiveRe.FindStringSubmatch(strings.TrimRight(lines[i], "\r"))
		if m == nil {
			break
		}
		key := strings.ToLower(m[1])
		if seen[key] {
			return nil, &Error{Line: i + 1, Msg: fmt.Sprintf("only one %s parser directive can be used", key)}
		}
		seen[key] = true
		switch key {
		case "escape":
			if m[2] != "\\" && m[2] != "`" {
				return nil, &Error{Line: i + 1, Msg: fmt.Sprintf("invalid escape token %q: it must be ` or \\", m[2])}
			}
			d.Escape = rune(m[2][0])
		case "syntax":
			d.Syntax = m[2]
		}
	}
	var ins []Instruction
	for i < len(lines) {
		start := i
		line := strings.TrimRight(lines[i], "\r")
		i++
		if len(line) > MaxLine {
			return nil, &Error{Line: start + 1, Msg: fmt.Sprintf("the line is longer than %d bytes", MaxLine)}
		}
		if isComment(line) || strings.TrimSpace(line) == "" {
			continue
		}
		text, more := continued(strings.TrimLeftFunc(line, unicode.IsSpace), d.Escape)
		for more && i < len(lines) {
			next := strings.TrimRight(lines[i], "\r")
			i++
			if isComment(next) || strings.TrimSpace(next) == "" {
				continue // comments and empty lines inside a continued instruction are dropped
			}
			var part string
			part, more = continued(next, d.Escape)
			text += part
			if len(text) > MaxLine {
				return nil, &Error{Line: start + 1, Msg: fmt.Sprintf("the instruction is longer than %d bytes", MaxLine)}
			}
		}
		if len(ins) == MaxInstructions {
			return nil, &Error{Line: start + 1, Msg: fmt.Sprintf("more than %d instructions", MaxInstructions)}
		}
		in, err := parseInstruction(text, start+1, d.Escape)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	return d, d.stages(ins)
}

// endregion parse

func isComment(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "#")
}

// continued strips a trailing escape character (and the blanks after it):
// it says the instruction goes on on the next line.
func continued(line string, escape rune) (string, bool) {
	t := strings.TrimRightFunc(line, unicode.IsSpace)
	if strings.HasSuffix(t, string(escape)) {
		return strings.TrimSuffix(t, string(escape)), true
	}
	return line, false
}

// stages groups the instructions into stages.
func (d *Dockerfile) stages(ins []Instruction) error {
	names := map[string]int{}
	for _, in := range ins {
		switch {
		case in.Cmd == "FROM":
			words := strings.Fields(in.rest())
			if len(words) != 1 && !(len(words) == 3 && strings.EqualFold(words[1], "AS")) {
				return in.Errorf("FROM wants IMAGE or IMAGE AS NAME, not %q", in.rest())
			}
			st := Stage{From: in}
			if len(words) == 3 {
				st.Name = strings.ToLower(words[2])
				if !stageNameRe.MatchString(st.Name) {
					return in.Errorf("invalid stage name %q: it must start with a letter and hold only letters, digits, '_', '.' and '-'", words[2])
				}
				if l, ok := names[st.Name]; ok {
					return in.Errorf("the stage name %q is already used by the FROM on line %d", st.Name, l)
				}
				names[st.Name] = in.Line
			}
			d.Stages = append(d.Stages, st)
		case len(d.Stages) == 0 && in.Cmd == "ARG":
			d.MetaArgs = append(d.MetaArgs, in)
		case len(d.Stages) == 0:
			return in.Errorf("%s before the first FROM: only ARG may come before it (a Dockerfile starts with FROM IMAGE)", in.Cmd)
		default:
			st := &d.Stages[len(d.Stages)-1]
			st.Steps = append(st.Steps, in)
		}
	}
	if len(d.Stages) == 0 {
		return &Error{Msg: "the Dockerfile has no FROM: it builds nothing"}
	}
	return nil
}

// region instruction
// parseInstruction reads one instruction: its word, its flags (COPY
// --from=build, --chown=1000:1000), and its arguments, either a JSON list
// (the exec form) or the rest of the line as one string (the shell form).
// What each instruction needs is checked here, so that a bad line fails
// the build before any step runs.
func parseInstruction(text string, line int, escape rune) (Instruction, error) {
	text = strings.TrimSpace(text)
	word, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		word, rest = text[:i], strings.TrimSpace(text[i:])
	}
	in := Instruction{Cmd: strings.ToUpper(word), Original: text, Line: line, Escape: escape}
	if !known[in.Cmd] {
		return in, in.Errorf("unknown instruction: %s (want one of FROM, RUN, CMD, ENTRYPOINT, ENV, ARG, LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, SHELL, COPY, ADD, ONBUILD)", word)
	}
	if allowed, ok := flagsOf[in.Cmd]; ok {
		for strings.HasPrefix(rest, "--") {
			tok := rest
			if i := strings.IndexFunc(rest, unicode.IsSpace); i >= 0 {
				tok, rest = rest[:i], strings.TrimSpace(rest[i:])
			} else {
				rest = ""
			}
			name, value, _ := strings.Cut(tok[2:], "=")
			if !allowed[name] {
				return in, in.Errorf("%s --%s: %s", in.Cmd, name, unknownFlag(in.Cmd, name))
			}
			if value == "" {
				return in, in.Errorf("%s --%s needs a value: --%s=VALUE", in.Cmd, name, name)
			}
			in.Flags = append(in.Flags, Flag{Name: name, Value: value})
		}
	}
	if jsonForm[in.Cmd] && strings.HasPrefix(rest, "[") {
		var list []string
		if json.Unmarshal([]byte(rest), &list) == nil {
			in.Args, in.JSON = list, true
		}
	}
	if !in.JSON && rest != "" {
		in.Args = []string{rest}
	}
	return in, in.check()
}

// endregion instruction

func unknownFlag(cmd, name string) string {
	switch {
	case cmd == "RUN" && (name == "mount" || name == "network" || name == "security"):
		return "a BuildKit feature; minidocker's builder is the classic one (docker build with DOCKER_BUILDKIT=0)"
	case name == "link" || name == "parents" || name == "exclude" || name == "keep-git-dir" || name == "checksum":
		return "a BuildKit feature; minidocker's builder is the classic one"
	}
	return "unknown flag"
}

// check validates an instruction's arguments, without expanding them.
func (in Instruction) check() error {
	n := len(in.Args)
	switch in.Cmd {
	case "FROM", "WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER":
		if n == 0 || in.Args[0] == "" {
			return in.Errorf("%s needs an argument", in.Cmd)
		}
	case "RUN":
		if n == 0 || (!in.JSON && strings.TrimSpace(in.Args[0]) == "") {
			return in.Errorf("RUN needs a command")
		}
	case "COPY", "ADD":
		if in.JSON && n < 2 || !in.JSON && (n == 0 || len(strings.Fields(in.Args[0])) < 2) {
			return in.Errorf("%s needs a source and a destination: %s SRC... DEST", in.Cmd, in.Cmd)
		}
	case "ENV", "LABEL", "ARG":
		if n == 0 {
			return in.Errorf("%s needs KEY=VALUE", in.Cmd)
		}
		if in.Cmd == "ARG" {
			_, err := in.ArgList(nil)
			return err
		}
		_, err := keyValues(in, nil)
		return err
	case "EXPOSE", "VOLUME":
		if n == 0 {
			return in.Errorf("%s needs at least one argument", in.Cmd)
		}
	case "SHELL":
		if !in.JSON || n == 0 {
			return in.Errorf("SHELL needs the JSON form: SHELL [\"/bin/sh\", \"-c\"]")
		}
	case "ONBUILD":
		if n == 0 {
			return in.Errorf("ONBUILD needs an instruction")
		}
		trig, err := parseInstruction(in.Args[0], in.Line, in.Escape)
		if err != nil {
			return err
		}
		if trig.Cmd == "ONBUILD" || trig.Cmd == "FROM" || trig.Cmd == "MAINTAINER" {
			return in.Errorf("ONBUILD %s is not allowed", trig.Cmd)
		}
	case "HEALTHCHECK":
		return in.Errorf("HEALTHCHECK is not supported by minidocker: its containers have no health state")
	}
	return nil
}

// Arg is one name of an ARG, with its default if it has one.
type Arg struct {
	Name    string
	Default *string
}

// ArgList reads ARG NAME[=DEFAULT] [NAME2[=DEFAULT2]...], the defaults
// expanded with vars.
func (in Instruction) ArgList(vars Vars) ([]Arg, error) {
	words, err := ExpandWords(in.rest(), in.Escape, vars)
	if err != nil {
		return nil, in.Errorf("ARG: %v", err)
	}
	var out []Arg
	for _, w := range words {
		name, def, hasDef := strings.Cut(w, "=")
		if !validName(name) {
			return nil, in.Errorf("ARG: %q is not a valid name", name)
		}
		a := Arg{Name: name}
		if hasDef {
			a.Default = &def
		}
		out = append(out, a)
	}
	return out, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// rest is the instruction's arguments as one string (the JSON list as written).
func (in Instruction) rest() string {
	if in.JSON {
		b, _ := json.Marshal(in.Args)
		return string(b)
	}
	if len(in.Args) == 0 {
		return ""
	}
	return in.Args[0]
}

// Flag is one --name=value of an instruction.
type Flag struct{ Name, Value string }

// Flag returns the value of the flag --name, and whether it was given.
func (in Instruction) Flag(name string) (string, bool) {
	for _, f := range in.Flags {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}
