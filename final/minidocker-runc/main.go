//go:build linux

// minidocker-runc is an OCI runtime: runc's command line over a bundle
// (a root filesystem and config.json), built from minidocker's own
// mechanisms (package oci). dockerd, containerd and podman can run
// containers with it: dockerd --add-runtime minidocker=bin/minidocker-runc.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/oci"
	"github.com/minidocker/build-your-own-docker/final/pid1"
)

const usage = `usage: minidocker-runc [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup] COMMAND
commands:
  create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID
  start ID | state ID | kill [--all] ID [SIGNAL] | delete [--force] ID
  exec [--process FILE] [--detach] [--tty] [--pid-file FILE] [--console-socket SOCK] [--cwd DIR] [--env K=V] ID [CMD...]
  run [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--detach] [--keep] ID
  list [--format table|json] | ps [--format table|json] ID | pause ID | resume ID
  update [--resources FILE|-] [--memory N] [--memory-swap N] [--cpu-quota N] [--cpu-period N] [--cpu-share N] [--cpuset-cpus L] [--cpuset-mems L] [--pids-limit N] ID
  spec [--bundle DIR] | features | --version`

// Version is minidocker-runc's version (what dockerd's `docker info` shows).
const Version = "0.1.0"

func main() {
	if len(os.Args) > 2 && os.Args[1] == "init" {
		pid1.MainOCI() // the container's init, re-executed by create
		return
	}
	g := &oci.Global{Root: oci.DefaultRoot, LogFormat: "text"}
	args := os.Args[1:]
	gf := flags{values: map[string]*string{"root": &g.Root, "log": &g.Log, "log-format": &g.LogFormat, "criu": new(string), "rootless": new(string)},
		bools: map[string]*bool{"systemd-cgroup": &g.SystemdCgroup, "debug": &g.Debug}}
	var version, help bool
	gf.bools["version"], gf.bools["v"], gf.bools["help"], gf.bools["h"] = &version, &version, &help, &help
	args, err := gf.parseLeading(args)
	switch {
	case err != nil:
		fail(g, err)
	case version:
		fmt.Printf("minidocker-runc version %s\nspec: %s\n", Version, oci.SpecVersionConst)
		return
	case help || len(args) == 0:
		fmt.Println(usage)
		return
	}
	code, err := command(g, args[0], args[1:])
	if err != nil {
		fail(g, err)
	}
	os.Exit(code)
}

// updateFlags are runc update's flags for single limits (-m is --memory).
var updateFlags = []string{"memory", "m", "memory-swap", "cpu-quota", "cpu-period", "cpu-share", "cpuset-cpus", "cpuset-mems", "pids-limit"}

func command(g *oci.Global, name string, args []string) (int, error) {
	var o oci.CreateOpts
	var force, all, detach, keep, noop bool
	var format = "table"
	var preserve string
	f := flags{values: map[string]*string{}, bools: map[string]*bool{}}
	need := func(n int) ([]string, error) {
		pos, err := f.parse(args)
		if err != nil {
			return nil, err
		}
		if len(pos) < n {
			return nil, fmt.Errorf("%s: missing container id (see --help)", name)
		}
		return pos, nil
	}
	createFlags := func() {
		f.values["bundle"], f.values["b"], f.values["pid-file"], f.values["console-socket"] = &o.Bundle, &o.Bundle, &o.PidFile, &o.ConsoleSocket
		f.values["preserve-fds"] = &preserve
		// We always pivot_root, and never make a session keyring.
		f.bools["no-pivot"], f.bools["no-new-keyring"] = &noop, &noop
	}
	switch name {
	case "create", "run":
		createFlags()
		if name == "run" {
			f.bools["detach"], f.bools["d"], f.bools["keep"], f.bools["no-subreaper"] = &detach, &detach, &keep, &noop
		}
		pos, err := need(1)
		if err != nil {
			return 1, err
		}
		if preserve != "" && preserve != "0" {
			return 1, errors.New("--preserve-fds: passing descriptors to the container is not supported")
		}
		if name == "create" {
			return 0, oci.Create(g, pos[0], o)
		}
		return oci.Run(g, pos[0], o, detach, keep)
	case "start", "state", "pause", "resume":
		pos, err := need(1)
		if err != nil {
			return 1, err
		}
		switch name {
		case "start":
			return 0, oci.Start(g, pos[0])
		case "state":
			return 0, oci.StateCmd(g, pos[0])
		}
		return 0, oci.Pause(g, pos[0], name == "pause")
	case "kill":
		f.bools["all"], f.bools["a"] = &all, &all
		pos, err := need(1)
		if err != nil {
			return 1, err
		}
		sig := "TERM"
		if len(pos) > 1 {
			sig = pos[1]
		}
		return 0, oci.Kill(g, pos[0], sig, all)
	case "delete":
		f.bools["force"], f.bools["f"] = &force, &force
		pos, err := need(1)
		if err != nil {
			return 1, err
		}
		return 0, oci.Delete(g, pos[0], force)
	case "list", "ps":
		f.values["format"], f.values["f"] = &format, &format
		f.bools["quiet"], f.bools["q"] = &noop, &noop
		n := 0
		if name == "ps" {
			n = 1
		}
		pos, err := need(n)
		if err != nil {
			return 1, err
		}
		if name == "ps" {
			return 0, oci.Ps(g, pos[0], format)
		}
		return 0, oci.List(g, format)
	case "spec":
		f.values["bundle"], f.values["b"] = &o.Bundle, &o.Bundle
		f.bools["rootless"] = &noop
		if _, err := f.parse(args); err != nil {
			return 1, err
		}
		path := filepath.Join(o.Bundle, "config.json")
		if _, err := os.Stat(path); err == nil {
			return 1, fmt.Errorf("%s exists: remove it first", path)
		}
		b, _ := json.MarshalIndent(oci.Default(), "", "\t")
		return 0, os.WriteFile(path, append(b, '\n'), 0644)
	case "exec":
		var e oci.ExecOpts
		var user, cgroup string
		var caps []string
		f.values["process"], f.values["p"], f.values["pid-file"], f.values["console-socket"] = &e.Process, &e.Process, &e.PidFile, &e.ConsoleSocket
		f.values["cwd"], f.values["user"], f.values["u"], f.values["preserve-fds"], f.values["cgroup"] = &e.Cwd, &user, &user, &preserve, &cgroup
		f.bools["detach"], f.bools["d"], f.bools["tty"], f.bools["t"], f.bools["ignore-paused"] = &e.Detach, &e.Detach, &e.Tty, &e.Tty, &noop
		f.multi = map[string]*[]string{"env": &e.Env, "e": &e.Env, "cap": &caps, "c": &caps}
		// Flags end at the container's id: what follows is the command.
		pos, err := f.parseLeading(args)
		if err != nil {
			return 1, err
		}
		if len(pos) > 0 && pos[0] == "--" {
			pos = pos[1:]
		}
		if len(pos) == 0 {
			return 1, errors.New("exec: missing container id (see --help)")
		}
		if user != "" && user != "0" && user != "0:0" || len(caps) > 0 || cgroup != "" || preserve != "" && preserve != "0" {
			return 1, errors.New("exec: --user (other than root), --cap, --cgroup and --preserve-fds are not supported")
		}
		if e.Process == "" && len(pos) < 2 {
			return 1, errors.New("exec: give --process FILE or a command")
		}
		e.Args = pos[1:]
		return oci.Exec(g, pos[0], e)
	case "update":
		var res string
		for _, k := range updateFlags {
			f.values[k] = new(string)
		}
		f.values["resources"], f.values["r"] = &res, &res
		pos, err := need(1)
		if err != nil {
			return 1, err
		}
		flagVals := map[string]string{}
		for _, k := range updateFlags {
			flagVals[k] = *f.values[k]
		}
		if flagVals["m"] != "" {
			flagVals["memory"] = flagVals["m"]
		}
		delete(flagVals, "m")
		var in io.Reader
		switch res {
		case "":
		case "-":
			in = os.Stdin
		default:
			file, err := os.Open(res)
			if err != nil {
				return 1, err
			}
			defer file.Close()
			in = file
		}
		return 0, oci.Update(g, pos[0], in, flagVals)
	case "features":
		b, _ := json.MarshalIndent(oci.Features(), "", "    ")
		fmt.Println(string(b))
		return 0, nil
	}
	return 1, fmt.Errorf("unknown command %q (events, checkpoint and restore are not supported)\n%s", name, usage)
}

// fail reports an error on stderr and, with --log, in the log file.
func fail(g *oci.Global, err error) {
	fmt.Fprintf(os.Stderr, "minidocker-runc: %s\n", err)
	g.LogLine("error", err.Error())
	os.Exit(1)
}

// flags is runc's flag syntax: --name VALUE, --name=VALUE, -n VALUE,
// booleans, flags and arguments in any order.
type flags struct {
	values map[string]*string
	bools  map[string]*bool
	multi  map[string]*[]string // repeatable: --env A=1 --env B=2
}

func (f flags) one(args []string) (rest []string, err error) {
	name := strings.TrimLeft(args[0], "-")
	value, hasValue := "", false
	if i := strings.IndexByte(name, '='); i >= 0 {
		name, value, hasValue = name[:i], name[i+1:], true
	}
	if p, ok := f.bools[name]; ok {
		*p = !hasValue || value == "true"
		return args[1:], nil
	}
	p, ok := f.values[name]
	m, isMulti := f.multi[name]
	if !ok && !isMulti {
		return nil, fmt.Errorf("flag provided but not defined: %s", args[0])
	}
	if !hasValue {
		if len(args) < 2 {
			return nil, fmt.Errorf("flag needs an argument: %s", args[0])
		}
		value, args = args[1], args[1:]
	}
	if isMulti {
		*m = append(*m, value)
	} else {
		*p = value
	}
	return args[1:], nil
}

// parseLeading takes the flags before the command.
func (f flags) parseLeading(args []string) ([]string, error) {
	var err error
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args, err = f.one(args); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// parse takes flags anywhere; "--" ends them.
func (f flags) parse(args []string) (pos []string, err error) {
	for len(args) > 0 {
		switch {
		case args[0] == "--":
			return append(pos, args[1:]...), nil
		case strings.HasPrefix(args[0], "-") && len(args[0]) > 1:
			if args, err = f.one(args); err != nil {
				return nil, err
			}
		default:
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	return pos, nil
}
