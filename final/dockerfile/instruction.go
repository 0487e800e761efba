// Package dockerfile reads Dockerfiles (Parse: directives, comments,
// continuations, stages) and instructions, expands their variables the
// way the builder does ($VAR, ${VAR:-default}, quotes; lex.go), and
// applies the ones that change an image's config (CMD, ENTRYPOINT, ENV,
// WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL, SHELL, ONBUILD) as
// `docker build` does. `build` (package build) runs the rest; `import
// --change` and `commit --change` take the same lines. A Dockerfile is
// written by strangers: the file, every line and their number are
// bounded, and an unknown or malformed instruction is refused in one line
// naming its line number. Chapter: docs/12-build.md.
package dockerfile

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"unicode"

	"github.com/minidocker/build-your-own-docker/final/image"
)

// Instruction is one parsed instruction: CMD ["sh", "-c", "x"] is {Cmd:
// "CMD", Args: [sh -c x], JSON: true}; CMD echo hi is {Cmd: "CMD", Args:
// [echo hi]}; COPY --from=build /a /b is {Cmd: "COPY", Flags: [{from
// build}], Args: [/a /b]}.
type Instruction struct {
	Cmd      string   // upper case: FROM, RUN, CMD ...
	Args     []string // the JSON form's list, or the rest of the line as one string
	JSON     bool     // the exec form ["a", "b"]
	Flags    []Flag   // --name=value before the arguments (COPY, ADD, FROM)
	Line     int      // the Dockerfile line it starts on (0: a --change line)
	Original string   // as written, continuations joined: for messages and `Step 2/5 :`
	Escape   rune     // the escape character in effect (\ or `)
}

// region parseline
// ParseLine reads one instruction, as `import --change` and `commit
// --change` give them. The exec form (a JSON list of strings) runs without
// a shell; anything else is the shell form, kept as one string that build
// runs with /bin/sh -c.
func ParseLine(line string) (Instruction, error) {
	if len(line) > MaxLine {
		return Instruction{}, fmt.Errorf("instruction longer than %d bytes", MaxLine)
	}
	if strings.TrimSpace(line) == "" {
		return Instruction{}, fmt.Errorf("empty instruction")
	}
	return parseInstruction(line, 0, '\\')
}

// endregion parseline

// region apply
// Apply changes the config as the instruction says and returns the
// instruction as the image's history shows it, its variables expanded
// (ENV A=$B with B=1 is "ENV A=1"). vars are the build's variables (nil:
// the config's own Env). ENV, LABEL, EXPOSE and VOLUME add to what is
// there; CMD, ENTRYPOINT, WORKDIR, USER, STOPSIGNAL, SHELL replace it. The
// shell form of CMD and ENTRYPOINT becomes [sh -c LINE] (the image's SHELL
// if it sets one), as docker build makes it; their text is not expanded:
// the shell in the container does that when it runs.
func Apply(cc *image.ContainerConfig, in Instruction, vars Vars) (string, error) {
	if vars == nil {
		vars = EnvVars(append([]string{}, cc.Env...))
	}
	word := func() (string, error) {
		if len(in.Args) != 1 || in.JSON || strings.TrimSpace(in.Args[0]) == "" {
			return "", in.Errorf("%s needs exactly one argument: %q", in.Cmd, in.Original)
		}
		w, err := ExpandWord(strings.TrimSpace(in.Args[0]), in.Escape, vars)
		if err != nil {
			return "", in.Errorf("%s: %v", in.Cmd, err)
		}
		if w == "" {
			return "", in.Errorf("%s %s is empty once expanded", in.Cmd, in.Args[0])
		}
		return w, nil
	}
	switch in.Cmd {
	case "CMD", "ENTRYPOINT":
		args := in.Args
		if !in.JSON && len(args) == 1 {
			args = append(Shell(*cc), args[0])
		}
		if in.Cmd == "CMD" {
			cc.Cmd = args
		} else {
			cc.Entrypoint, cc.Cmd = args, nil // a new ENTRYPOINT drops the CMD, as in docker build
		}
		b, _ := json.Marshal(args)
		return in.Cmd + " " + string(b), nil
	case "ENV", "LABEL":
		pairs, err := keyValues(in, vars)
		if err != nil {
			return "", err
		}
		shown := in.Cmd
		for _, kv := range pairs {
			shown += " " + kv[0] + "=" + kv[1]
			if in.Cmd == "ENV" {
				cc.Env = setEnv(cc.Env, kv[0], kv[1])
				continue
			}
			if cc.Labels == nil {
				cc.Labels = map[string]string{}
			}
			cc.Labels[kv[0]] = kv[1]
		}
		return shown, nil
	case "WORKDIR":
		dir, err := word()
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(dir, "/") {
			dir = strings.TrimSuffix(cc.WorkingDir, "/") + "/" + dir
		}
		cc.WorkingDir = path.Clean(dir)
		return "WORKDIR " + cc.WorkingDir, nil
	case "USER":
		u, err := word()
		if err != nil {
			return "", err
		}
		cc.User = u
		return "USER " + u, nil
	case "STOPSIGNAL":
		s, err := word()
		if err != nil {
			return "", err
		}
		cc.StopSignal = s
		return "STOPSIGNAL " + s, nil
	case "EXPOSE", "VOLUME":
		items, err := in.Words(vars)
		if err != nil {
			return "", err
		}
		if len(items) == 0 {
			return "", in.Errorf("%s needs at least one argument", in.Cmd)
		}
		for i, it := range items {
			if in.Cmd == "VOLUME" {
				if !strings.HasPrefix(it, "/") {
					return "", in.Errorf("VOLUME %q: a volume's path must be absolute", it)
				}
				if cc.Volumes == nil {
					cc.Volumes = map[string]struct{}{}
				}
				cc.Volumes[it] = struct{}{}
				continue
			}
			port, err := exposedPort(it)
			if err != nil {
				return "", in.Errorf("%v", err)
			}
			if cc.ExposedPorts == nil {
				cc.ExposedPorts = map[string]struct{}{}
			}
			cc.ExposedPorts[port] = struct{}{}
			items[i] = port
		}
		return in.Cmd + " " + strings.Join(items, " "), nil
	case "SHELL":
		if !in.JSON || len(in.Args) == 0 {
			return "", in.Errorf("SHELL needs the JSON form: SHELL [\"/bin/sh\", \"-c\"]")
		}
		cc.Shell = in.Args
		b, _ := json.Marshal(in.Args)
		return "SHELL " + string(b), nil
	case "ONBUILD":
		trig := strings.TrimSpace(in.Args[0])
		cc.OnBuild = append(cc.OnBuild, trig)
		return "ONBUILD " + trig, nil
	}
	return "", in.Errorf("%s is not an instruction that changes the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)", in.Cmd)
}

// endregion apply

// Shell is the command the shell form runs with: the config's SHELL, or
// /bin/sh -c.
func Shell(cc image.ContainerConfig) []string {
	if len(cc.Shell) > 0 {
		return append([]string{}, cc.Shell...)
	}
	return []string{"/bin/sh", "-c"}
}

// Words are the instruction's arguments, expanded: each element of the JSON
// form, or the shell form split at blanks outside quotes.
func (in Instruction) Words(vars Vars) ([]string, error) {
	if !in.JSON {
		w, err := ExpandWords(in.rest(), in.Escape, vars)
		if err != nil {
			return nil, in.Errorf("%s: %v", in.Cmd, err)
		}
		return w, nil
	}
	out := make([]string, 0, len(in.Args))
	for _, a := range in.Args {
		w, err := ExpandWord(a, in.Escape, vars)
		if err != nil {
			return nil, in.Errorf("%s: %v", in.Cmd, err)
		}
		out = append(out, w)
	}
	return out, nil
}

// ApplyChanges applies --change lines, in order.
func ApplyChanges(cc *image.ContainerConfig, changes []string) error {
	for _, c := range changes {
		in, err := ParseLine(c)
		if err != nil {
			return fmt.Errorf("--change %q: %v", c, err)
		}
		if _, err := Apply(cc, in, nil); err != nil {
			return fmt.Errorf("--change %q: %v", c, err)
		}
	}
	return nil
}

// keyValues reads ENV K=V K2="V 2" (and the old form ENV K V..., whose
// value is the rest of the line), expanding variables with vars (nil: none,
// only the syntax is checked).
func keyValues(in Instruction, vars Vars) ([][2]string, error) {
	if in.JSON || len(in.Args) != 1 {
		return nil, in.Errorf("%s needs KEY=VALUE pairs: %q", in.Cmd, in.Original)
	}
	text := strings.TrimSpace(in.Args[0])
	first, rest := firstWord(text, in.Escape)
	if !strings.Contains(first, "=") { // ENV KEY VALUE...
		if rest == "" {
			return nil, in.Errorf("%s %s needs a value", in.Cmd, first)
		}
		k, err := ExpandWord(first, in.Escape, vars)
		if err == nil {
			rest, err = ExpandWord(rest, in.Escape, vars)
		}
		if err != nil {
			return nil, in.Errorf("%s: %v", in.Cmd, err)
		}
		return [][2]string{{k, rest}}, nil
	}
	words, err := ExpandWords(text, in.Escape, vars)
	if err != nil {
		return nil, in.Errorf("%s: %v", in.Cmd, err)
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, in.Errorf("%s: %q is not KEY=VALUE", in.Cmd, w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// firstWord splits off the first word of text, at a blank outside quotes
// (nothing is expanded).
func firstWord(text string, escape rune) (string, string) {
	var quote rune
	esc := false
	for i, r := range text {
		switch {
		case esc:
			esc = false
		case r == escape && quote != '\'':
			esc = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case unicode.IsSpace(r):
			return text[:i], strings.TrimSpace(text[i:])
		}
	}
	return text, ""
}

func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// exposedPort is 80, 80/tcp or 53/udp as the config keeps it: "80/tcp".
func exposedPort(s string) (string, error) {
	port, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	n := 0
	for _, c := range port {
		if c < '0' || c > '9' || n > 65535 {
			return "", fmt.Errorf("EXPOSE %q: not a port number", s)
		}
		n = n*10 + int(c-'0')
	}
	if port == "" || n == 0 || n > 65535 || (proto != "tcp" && proto != "udp" && proto != "sctp") {
		return "", fmt.Errorf("EXPOSE %q: want PORT[/tcp|udp|sctp]", s)
	}
	return fmt.Sprintf("%d/%s", n, proto), nil
}
