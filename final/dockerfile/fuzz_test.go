package dockerfile

import (
	"strings"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/image"
)

// FuzzDockerfile: whatever a stranger writes, Parse returns a Dockerfile
// or an error, within its bounds, and every instruction it accepts can be
// expanded and applied without a panic. Seeded with real and broken
// Dockerfiles (CI runs it for 20 s: .ci/run).
func FuzzDockerfile(f *testing.F) {
	for _, seed := range []string{
		"FROM busybox\nRUN echo hi\nCMD [\"sh\"]\n",
		"# escape=`\nARG V=1\nFROM busybox:$V AS b\nRUN a `\n b\nCOPY --from=b --chown=1:1 [\"/a\", \"/b/\"]\n",
		"FROM scratch\nENV A=1 B=\"$A x\" C=${A:-y}\nLABEL 'k'=v\nWORKDIR /a/../b\nEXPOSE 80/udp\nVOLUME /v\nONBUILD RUN x\n",
		"FROM a\nENV A=$A$A\nENV A=$A$A\nUSER ${U:+x}\nSHELL [\"/bin/sh\"]\nSTOPSIGNAL 9\nADD x.tar /\n",
		"FROM a\nRUN --mount=type=cache true\n", "FROM a\nENV \"x\n", "\xef\xbb\xbfFROM a\r\nRUN \\\r\n\r\n x\r\n",
		"ARG\nFROM\n", "FROM a AS b\nFROM b AS b\n", "# syntax=x\n# escape=\\\n\n# escape=`\nFROM a\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		d, err := Parse(strings.NewReader(src))
		if err != nil {
			return
		}
		if len(d.Stages) == 0 {
			t.Fatal("a Dockerfile without a stage was accepted")
		}
		for _, st := range d.Stages {
			if len(st.From.Original) > MaxLine {
				t.Fatalf("an instruction of %d bytes was accepted", len(st.From.Original))
			}
			cc := image.ContainerConfig{Env: []string{"A=" + strings.Repeat("a", 100)}}
			for _, in := range st.Steps {
				if len(in.Original) > MaxLine || in.Line <= 0 {
					t.Fatalf("instruction %+v out of bounds", in)
				}
				in.Words(EnvVars(cc.Env))
				in.ArgList(EnvVars(cc.Env))
				switch in.Cmd {
				case "RUN", "COPY", "ADD", "ARG", "MAINTAINER":
					continue
				}
				if _, err := Apply(&cc, in, nil); err != nil && !strings.Contains(err.Error(), "line") {
					t.Fatalf("an error without its line: %v", err)
				}
				for _, kv := range cc.Env {
					if len(kv) > 3*MaxLine {
						t.Fatalf("an ENV of %d bytes", len(kv))
					}
				}
			}
		}
	})
}
