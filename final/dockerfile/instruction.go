// Package dockerfile reads Dockerfile instructions and applies the ones
// that change an image's config (CMD, ENTRYPOINT, ENV, WORKDIR, USER,
// EXPOSE, LABEL, VOLUME, STOPSIGNAL) the way `docker build` does. `import
// --change` and `commit --change` take the same lines. A Dockerfile is
// written by strangers: every line is bounded and checked, and an
// unknown or malformed instruction is refused in one line naming it.
package dockerfile

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/minidocker/build-your-own-docker/final/image"
)

// Instruction is one parsed line: CMD ["sh", "-c", "x"] is {Cmd: "CMD",
// Args: [sh -c x], JSON: true}; CMD echo hi is {Cmd: "CMD", Args: [echo hi]}.
type Instruction struct {
	Cmd      string   // upper case: FROM, RUN, CMD ...
	Args     []string // the JSON form's list, or the rest of the line as one string
	JSON     bool     // the exec form ["a", "b"]
	Original string   // the line as written, for history and messages
}

// MaxLine bounds one instruction (continuations joined): far above any
// real one, far below what could hurt.
const MaxLine = 1 << 20

// region parse
// ParseLine reads one instruction. The exec form (a JSON list of strings)
// runs without a shell; anything else is the shell form, kept as one
// string that build runs with /bin/sh -c.
func ParseLine(line string) (Instruction, error) {
	if len(line) > MaxLine {
		return Instruction{}, fmt.Errorf("instruction longer than %d bytes", MaxLine)
	}
	line = strings.TrimSpace(line)
	word, rest := line, ""
	if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
		word, rest = line[:i], strings.TrimSpace(line[i:])
	}
	in := Instruction{Cmd: strings.ToUpper(word), Original: line}
	if in.Cmd == "" {
		return in, fmt.Errorf("empty instruction")
	}
	if strings.HasPrefix(rest, "[") {
		var list []string
		if json.Unmarshal([]byte(rest), &list) == nil {
			in.Args, in.JSON = list, true
			return in, nil
		}
	}
	if rest != "" {
		in.Args = []string{rest}
	}
	return in, nil
}

// endregion parse

// region apply
// Apply changes the config as the instruction says. ENV, LABEL and EXPOSE
// add to what is there; CMD, ENTRYPOINT, WORKDIR, USER, STOPSIGNAL replace
// it. The shell form of CMD and ENTRYPOINT becomes [sh -c LINE] (the
// image's SHELL if it sets one), as docker build makes it.
func Apply(cc *image.ContainerConfig, in Instruction) error {
	one := func() (string, error) {
		if len(in.Args) != 1 || in.JSON || in.Args[0] == "" {
			return "", fmt.Errorf("%s needs exactly one argument: %q", in.Cmd, in.Original)
		}
		return in.Args[0], nil
	}
	switch in.Cmd {
	case "CMD", "ENTRYPOINT":
		args := in.Args
		if !in.JSON && len(args) == 1 {
			sh := cc.Shell
			if len(sh) == 0 {
				sh = []string{"/bin/sh", "-c"}
			}
			args = append(append([]string{}, sh...), args[0])
		}
		if in.Cmd == "CMD" {
			cc.Cmd = args
		} else {
			cc.Entrypoint, cc.Cmd = args, nil // a new ENTRYPOINT drops the CMD, as in docker build
		}
	case "ENV", "LABEL":
		pairs, err := keyValues(in)
		if err != nil {
			return err
		}
		for _, kv := range pairs {
			if in.Cmd == "ENV" {
				cc.Env = setEnv(cc.Env, kv[0], kv[1])
				continue
			}
			if cc.Labels == nil {
				cc.Labels = map[string]string{}
			}
			cc.Labels[kv[0]] = kv[1]
		}
	case "WORKDIR":
		dir, err := one()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(dir, "/") {
			dir = strings.TrimSuffix(cc.WorkingDir, "/") + "/" + dir
		}
		cc.WorkingDir = dir
	case "USER":
		u, err := one()
		if err != nil {
			return err
		}
		cc.User = u
	case "STOPSIGNAL":
		s, err := one()
		if err != nil {
			return err
		}
		cc.StopSignal = s
	case "EXPOSE", "VOLUME":
		items := in.Args
		if !in.JSON {
			items = strings.Fields(strings.Join(in.Args, " "))
		}
		if len(items) == 0 {
			return fmt.Errorf("%s needs at least one argument", in.Cmd)
		}
		for _, it := range items {
			if in.Cmd == "VOLUME" {
				if !strings.HasPrefix(it, "/") {
					return fmt.Errorf("VOLUME %q: a volume's path must be absolute", it)
				}
				if cc.Volumes == nil {
					cc.Volumes = map[string]struct{}{}
				}
				cc.Volumes[it] = struct{}{}
				continue
			}
			port, err := exposedPort(it)
			if err != nil {
				return err
			}
			if cc.ExposedPorts == nil {
				cc.ExposedPorts = map[string]struct{}{}
			}
			cc.ExposedPorts[port] = struct{}{}
		}
	case "SHELL":
		if !in.JSON || len(in.Args) == 0 {
			return fmt.Errorf("SHELL needs the JSON form: SHELL [\"/bin/sh\", \"-c\"]")
		}
		cc.Shell = in.Args
	default:
		return fmt.Errorf("%s is not an instruction that changes the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)", in.Cmd)
	}
	return nil
}

// endregion apply

// ApplyChanges applies --change lines, in order.
func ApplyChanges(cc *image.ContainerConfig, changes []string) error {
	for _, c := range changes {
		in, err := ParseLine(c)
		if err != nil {
			return fmt.Errorf("--change %q: %v", c, err)
		}
		if err := Apply(cc, in); err != nil {
			return fmt.Errorf("--change %q: %v", c, err)
		}
	}
	return nil
}

// keyValues reads ENV K=V K2="V 2" (and the old ENV K V form).
func keyValues(in Instruction) ([][2]string, error) {
	if in.JSON || len(in.Args) != 1 {
		return nil, fmt.Errorf("%s needs KEY=VALUE pairs: %q", in.Cmd, in.Original)
	}
	words, err := splitWords(in.Args[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %v", in.Cmd, err)
	}
	if len(words) > 0 && !strings.Contains(words[0], "=") { // ENV KEY VALUE...
		if len(words) < 2 {
			return nil, fmt.Errorf("%s %s needs a value", in.Cmd, words[0])
		}
		rest := strings.TrimSpace(strings.TrimPrefix(in.Args[0], strings.Fields(in.Args[0])[0]))
		return [][2]string{{words[0], rest}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: %q is not KEY=VALUE", in.Cmd, w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// splitWords splits on blanks, keeping "quoted parts" and \-escapes.
func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quote, esc := false, rune(0), false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\' && quote != '\'':
			esc, in = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, in = r, true
		case unicode.IsSpace(r):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
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
