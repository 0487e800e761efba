package dockerfile

import (
	"reflect"
	"strings"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/image"
)

func TestParse(t *testing.T) {
	src := "# syntax=docker/dockerfile:1\n" +
		"ARG BASE=busybox\n" +
		"\n" +
		"FROM $BASE AS Build\n" +
		"# a comment\n" +
		"RUN echo a \\\n" +
		"  # a comment inside the instruction\n" +
		"\n" +
		"  && echo b\r\n" +
		"COPY --from=x --chown=1:2 [\"a b\", \"/c/\"]\n" +
		"run [\"sh\", \"-c\", \"echo # not a comment\"]\n" +
		"FROM scratch\n" +
		"COPY --from=build /out /out\n"
	d, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if d.Syntax != "docker/dockerfile:1" || d.Escape != '\\' || len(d.MetaArgs) != 1 || len(d.Stages) != 2 {
		t.Fatalf("parsed %+v", d)
	}
	st := d.Stages[0]
	if st.Name != "build" || st.From.Line != 4 || len(st.Steps) != 3 {
		t.Fatalf("stage 0: %+v", st)
	}
	run := st.Steps[0]
	if run.Cmd != "RUN" || run.Line != 6 || run.JSON || run.Args[0] != "echo a   && echo b" {
		t.Errorf("continued RUN: %+v", run)
	}
	cp := st.Steps[1]
	if from, _ := cp.Flag("from"); from != "x" || !cp.JSON || !reflect.DeepEqual(cp.Args, []string{"a b", "/c/"}) {
		t.Errorf("COPY: %+v", cp)
	}
	if ch, _ := cp.Flag("chown"); ch != "1:2" {
		t.Errorf("COPY --chown: %+v", cp)
	}
	if r := st.Steps[2]; r.Cmd != "RUN" || !r.JSON || r.Args[2] != "echo # not a comment" {
		t.Errorf("exec-form RUN: %+v", r)
	}
}

func TestParseEscapeDirective(t *testing.T) {
	d, err := Parse(strings.NewReader("# escape=`\nFROM busybox\nRUN dir c:\\ `\n  && echo done\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Escape != '`' || d.Stages[0].Steps[0].Args[0] != `dir c:\   && echo done` {
		t.Errorf("escape `: %q", d.Stages[0].Steps[0].Args)
	}
	// A directive after the first line that is not one is a comment.
	d, err = Parse(strings.NewReader("FROM busybox\n# escape=`\nRUN a \\\n b\n"))
	if err != nil || d.Escape != '\\' || d.Stages[0].Steps[0].Args[0] != "a  b" {
		t.Errorf("late directive: %v %+v", err, d)
	}
}

// Bad Dockerfiles: each refused with the line it is on.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"unknown instruction", "FROM busybox\nRUN true\n\nFROOM x\n", "line 4: unknown instruction: FROOM"},
		{"no FROM", "RUN true\n", "line 1: RUN before the first FROM"},
		{"empty", "# nothing\n", "no FROM"},
		{"bad escape", "# escape=x\nFROM a\n", "line 1: invalid escape token"},
		{"two escapes", "# escape=`\n# escape=\\\nFROM a\n", "line 2: only one escape"},
		{"FROM words", "FROM a b\n", "line 1: FROM wants IMAGE or IMAGE AS NAME"},
		{"stage name twice", "FROM a AS x\nFROM b AS X\n", "line 2: the stage name \"x\" is already used by the FROM on line 1"},
		{"bad stage name", "FROM a AS 1x\n", "invalid stage name"},
		{"COPY one arg", "FROM a\nCOPY x\n", "line 2: COPY needs a source and a destination"},
		{"RUN --mount", "FROM a\nRUN --mount=type=cache,target=/x true\n", "line 2: RUN --mount: a BuildKit feature"},
		{"COPY --link", "FROM a\nCOPY --link a b\n", "line 2: COPY --link: a BuildKit feature"},
		{"unknown flag", "FROM a\nADD --from=x a b\n", "line 2: ADD --from: unknown flag"},
		{"flag without value", "FROM a\nCOPY --chown a b\n", "COPY --chown needs a value"},
		{"unterminated quote", "FROM a\nENV A=\"x\n", "line 2: ENV: unexpected end of statement while looking for matching double-quote"},
		{"ENV no value", "FROM a\n\nENV A\n", "line 3: ENV A needs a value"},
		{"bad ARG", "ARG 9x\nFROM a\n", "line 1: ARG: \"9x\" is not a valid name"},
		{"SHELL shell form", "FROM a\nSHELL sh -c\n", "line 2: SHELL needs the JSON form"},
		{"HEALTHCHECK", "FROM a\nHEALTHCHECK CMD true\n", "line 2: HEALTHCHECK is not supported"},
		{"ONBUILD FROM", "FROM a\nONBUILD FROM b\n", "line 2: ONBUILD FROM is not allowed"},
		{"huge line", "FROM a\nRUN " + strings.Repeat("x", MaxLine) + "\n", "line 2: the line is longer than"},
		{"huge continuation", "FROM a\nRUN x" + strings.Repeat(" \\\n"+strings.Repeat("y", 1000), 70) + "\n", "line 2: the instruction is longer than"},
		{"too many", "FROM a\n" + strings.Repeat("ENV A=1\n", MaxInstructions), "more than 2000 instructions"},
		{"too large", "FROM a\n" + strings.Repeat("# comment\n", MaxDockerfile/10+1), "larger than"},
	} {
		_, err := Parse(strings.NewReader(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestExpand(t *testing.T) {
	vars := EnvVars([]string{"A=1", "E=", "P=/usr/bin", "SP=two words"})
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`$A ${A} x$A-y`, []string{"1", "1", "x1-y"}},
		{`${NONE:-def} ${E:-def} ${E-def} ${A:+alt} ${NONE:+alt}`, []string{"def", "def", "alt"}},
		{`'$A "x"' "$A 'y'" \$A \\`, []string{`$A "x"`, `1 'y'`, `$A`, `\`}},
		{`"$SP" $SP`, []string{"two words", "two words"}}, // a variable's value is not split again
		{`$ $1 ${A:-${P}}`, []string{"$", "$1", "1"}},
		{`"a\"b\c"`, []string{`a"b\c`}},
		{`$NONE x`, []string{"x"}},
	} {
		got, err := ExpandWords(c.in, '\\', vars)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ExpandWords(%s) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if w, _ := ExpandWord(`/a b/$A`, '\\', vars); w != "/a b/1" {
		t.Errorf("ExpandWord keeps blanks: %q", w)
	}
	for _, bad := range []string{`'x`, `"x`, `${A`, `${A:?x}`, `${}`, `${A:-x`} {
		if _, err := ExpandWords(bad, '\\', vars); err == nil {
			t.Errorf("ExpandWords(%s): no error", bad)
		}
	}
	// An ENV that doubles itself stops at MaxLine, not at the end of memory.
	big := EnvVars([]string{"B=" + strings.Repeat("x", MaxLine/2+1)})
	if _, err := ExpandWord("$B$B", '\\', big); err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("doubling: %v", err)
	}
}

func TestApply(t *testing.T) {
	cc := image.ContainerConfig{Env: []string{"A=old"}}
	for _, line := range []string{`ENV A=new B=$A C="${A}x"`, `WORKDIR /app`, `WORKDIR sub/../src`, `USER nobody`,
		`LABEL "k 1"=v`, `EXPOSE 80 53/udp`, `CMD echo hi`, `SHELL ["/bin/ash", "-c"]`, `ENTRYPOINT top -b`, `VOLUME ["/data"]`} {
		in, err := ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Apply(&cc, in, nil); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	want := image.ContainerConfig{Env: []string{"A=new", "B=old", "C=oldx"}, WorkingDir: "/app/src", User: "nobody",
		Labels: map[string]string{"k 1": "v"}, ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}},
		Shell: []string{"/bin/ash", "-c"}, Entrypoint: []string{"/bin/ash", "-c", "top -b"}, Volumes: map[string]struct{}{"/data": {}}}
	if !reflect.DeepEqual(cc, want) {
		t.Errorf("config:\n got %+v\nwant %+v", cc, want)
	}
	in, _ := ParseLine("ENV X=$A")
	if shown, _ := Apply(&cc, in, nil); shown != "ENV X=new" {
		t.Errorf("history text %q", shown)
	}
}
