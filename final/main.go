//go:build linux

// minidocker: a small Docker built from the mechanisms of steps 01-06.
//
//	sudo go run ./final run --rm busybox echo hi
//	sudo go run ./final run -d --name web -m 64m busybox top
//	sudo go run ./final ps -a
//	sudo go run ./final daemon &        # the Docker Engine API on /run/minidocker.sock
//	DOCKER_HOST=unix:///run/minidocker.sock docker ps
//
// Each mechanism is a package named for its chapter: container (namespaces,
// init, rootfs, pty, exec: chapters 01-03), cgroups (04), image (05),
// network (06, 08), state (07), engine, api (09). Every command goes
// through one engine interface (package engine): the local one does the
// work here, the remote one asks a daemon (-H or DOCKER_HOST). --debug
// prints every kernel-facing action as the shell command that would do
// the same.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/engine/local"
	"github.com/minidocker/build-your-own-docker/final/engine/remote"
	"github.com/minidocker/build-your-own-docker/final/nsenter"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/minidocker/build-your-own-docker/final/rootless"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
)

// Version is minidocker's version (chapter 7 of the tutorial).
const Version = "0.9.0"

func main() {
	rootless.Continue() // the re-executed rootless minidocker, waiting for its maps (package rootless)
	// The hidden roles of this same binary, dispatched before anything else:
	// they run on every container start, so they stay cheap.
	if len(os.Args) > 2 || (len(os.Args) == 2 && os.Args[1] == "exec-helper") {
		switch os.Args[1] {
		case "init": // PID 1 of a container, when minidocker-init is not beside us
			pid1.Main()
		case "monitor": // the per-container monitor (run -d, start, the daemon)
			setupLogging(os.Getenv("MINIDOCKER_DEBUG") != "")
			if rootless.On() {
				cgroups.Rootless()
			}
			os.Exit(container.Monitor(os.Args[2]))
		case "exec-helper": // `exec`'s helper when minidocker-nsenter is not beside us
			os.Exit(nsenter.Helper())
		}
	}
	app := newApp()
	if err := app.Run(os.Args); err != nil {
		code := 125
		var ee *container.ExitError
		var ge *engine.Error
		var ce cli.ExitCoder
		switch {
		case errors.As(err, &ee):
			code = ee.Code
		case errors.As(err, &ge) && ge.Code != 0:
			code = ge.Code
		case errors.As(err, &ce):
			code = ce.ExitCode()
		}
		if msg := strings.TrimSpace(err.Error()); msg != "" {
			fmt.Fprintln(os.Stderr, "minidocker: "+strings.ReplaceAll(msg, "\n", " "))
		}
		os.Exit(code)
	}
}

// exitCode ends a command with a status but no message (the container's own).
type exitCode int

func (e exitCode) Error() string { return "" }
func (e exitCode) ExitCode() int { return int(e) }

// traceFormatter prints --debug traces as shell lines ("+ mount ...") and
// warnings as one line.
type traceFormatter struct{}

func (traceFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if e.Level == logrus.DebugLevel {
		return []byte(e.Message + "\n"), nil
	}
	return []byte("minidocker: " + e.Level.String() + ": " + e.Message + "\n"), nil
}

func setupLogging(debug bool) {
	logrus.SetFormatter(traceFormatter{})
	logrus.SetOutput(os.Stderr)
	if debug {
		logrus.SetLevel(logrus.DebugLevel)
		os.Setenv("MINIDOCKER_DEBUG", "1") // the monitor inherits it
	} else {
		logrus.SetLevel(logrus.WarnLevel)
	}
}

// eng is the engine every command uses, chosen in Before.
var eng engine.Engine

// region choose
// chooseEngine: with -H (or DOCKER_HOST), the remote engine, a client of
// that daemon, which needs no root (only access to its socket); without,
// the local engine, daemonless, as root.
func chooseEngine(c *cli.Context) error {
	host := c.String("host")
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	if host == "" || c.Args().First() == "daemon" {
		if err := goRootless(c.Args().First()); err != nil {
			return err
		}
		l := local.New(Version, false)
		l.Insecure = c.StringSlice("insecure-registry")
		eng = l
		return nil
	}
	t := remote.TLSFromEnv()
	if c.Bool("tlsverify") {
		t = remote.TLS{Verify: true, CACert: c.String("tlscacert"), Cert: c.String("tlscert"), Key: c.String("tlskey")}
	}
	var err error
	eng, err = remote.New(host, t)
	return err
}

// endregion choose

// region gorootless
// goRootless: as an ordinary user, the local engine runs rootless
// (package rootless, docs/10-security.md): every command re-executes
// itself in a user namespace of its own, where the user is root, except
// exec, which stays the user: the container's namespaces belong to the
// user namespace its run made, and only the user outside (its owner) may
// enter it; another one made for exec could not. The containers' cgroups
// are the delegated ones, or none.
func goRootless(command string) error {
	if os.Geteuid() == 0 && !rootless.On() {
		return nil // root: the host's minidocker
	}
	if command == "daemon" {
		return errors.New("the daemon runs as root (a rootless daemon is not supported); as a user, run minidocker's commands directly (rootless) or talk to a daemon with -H unix:///run/minidocker.sock")
	}
	if os.Geteuid() != 0 {
		root, err := rootless.Root()
		if err != nil {
			return err
		}
		state.Root = root
		if command != "exec" {
			return rootless.Enter() // returns only if it could not
		}
	}
	cgroups.Rootless()
	return nil
}

// endregion gorootless

func newApp() *cli.App {
	app := &cli.App{
		Name:                      "minidocker",
		Usage:                     "a small Docker: namespaces, cgroups, overlayfs and a bridge, in Go",
		Version:                   Version,
		HideHelpCommand:           true,
		UseShortOptionHandling:    true,
		DisableSliceFlagSeparator: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Aliases: []string{"D"}, Usage: "print each kernel-facing action as a shell command"},
			&cli.StringFlag{Name: "host", Aliases: []string{"H"}, Usage: "the daemon to talk to: unix:///run/minidocker.sock or tcp://HOST:PORT (default: $DOCKER_HOST; none: daemonless)"},
			&cli.BoolFlag{Name: "tlsverify", Usage: "talk TLS to the daemon and check its certificate (tcp://)"},
			&cli.StringFlag{Name: "tlscacert", Usage: "the CA that signed the daemon's certificate"},
			&cli.StringFlag{Name: "tlscert", Usage: "this client's certificate"},
			&cli.StringFlag{Name: "tlskey", Usage: "this client's key"},
			&cli.StringSliceFlag{Name: "insecure-registry", EnvVars: []string{"MINIDOCKER_INSECURE_REGISTRIES"}, Usage: "a registry (HOST:PORT) to reach without TLS, or with TLS unchecked (loopback ones always are)"},
		},
		Before: func(c *cli.Context) error {
			setupLogging(c.Bool("debug"))
			if len(c.Args().Slice()) == 0 {
				return nil // help
			}
			return chooseEngine(c)
		},
		Commands: commands(),
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%v (see `minidocker --help`)", err)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main prints errors, once
	}
	for _, cmd := range app.Commands {
		setUsageErrors(cmd, cmd.Name)
	}
	return app
}

// setUsageErrors makes a bad flag one line that names the command's help.
func setUsageErrors(cmd *cli.Command, path string) {
	cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return fmt.Errorf("%s: %v (see `minidocker %s --help`)", path, err, path)
	}
	cmd.UseShortOptionHandling = true
	for _, sub := range cmd.Subcommands {
		setUsageErrors(sub, path+" "+sub.Name)
	}
}

// needArgs checks the positional arguments of a command.
func needArgs(c *cli.Context, min int, usage string) error {
	if c.NArg() < min {
		return fmt.Errorf("%q requires at least %d argument(s): usage: minidocker %s", c.Command.Name, min, usage)
	}
	return nil
}
