//go:build linux

// minidocker: a small Docker built from the mechanisms of steps 01-06.
//
//	sudo go run ./final run --rm busybox echo hi
//	sudo go run ./final run -d --name web -m 64m busybox top
//	sudo go run ./final ps -a
//
// Each mechanism is a package named for its chapter: container (namespaces,
// init, rootfs, pty, exec: chapters 01-03), cgroups (04), image (05),
// network (06), state (07). --debug prints every kernel-facing action as the
// shell command that would do the same.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/nsenter"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
)

// Version is minidocker's version (chapter 7 of the tutorial).
const Version = "0.7.0"

func main() {
	// The hidden roles of this same binary, dispatched before anything else:
	// they run on every container start, so they stay cheap.
	if len(os.Args) > 2 || (len(os.Args) == 2 && os.Args[1] == "exec-helper") {
		switch os.Args[1] {
		case "init": // PID 1 of a container, when minidocker-init is not beside us
			pid1.Main()
		case "monitor": // the per-container monitor of `run -d`
			setupLogging(os.Getenv("MINIDOCKER_DEBUG") != "")
			os.Exit(container.Monitor(os.Args[2]))
		case "exec-helper": // `exec`'s helper when minidocker-nsenter is not beside us
			os.Exit(nsenter.Helper())
		}
	}
	app := newApp()
	if err := app.Run(os.Args); err != nil {
		code := 125
		var ee *container.ExitError
		var ce cli.ExitCoder
		switch {
		case errors.As(err, &ee):
			code = ee.Code
		case errors.As(err, &ce):
			code = ce.ExitCode()
		}
		if msg := strings.TrimSpace(err.Error()); msg != "" {
			fmt.Fprintln(os.Stderr, "minidocker: "+strings.ReplaceAll(msg, "\n", " "))
		}
		os.Exit(code)
	}
}

// fail prints one line and exits.
func fail(code int, format string, a ...any) {
	fmt.Fprintf(os.Stderr, "minidocker: "+format+"\n", a...)
	os.Exit(code)
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
		},
		Before: func(c *cli.Context) error {
			setupLogging(c.Bool("debug"))
			if os.Geteuid() != 0 {
				return errors.New("must run as root: namespaces, mounts and cgroups need it; try `sudo minidocker ...`")
			}
			return nil
		},
		Commands: commands(),
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%v (see `minidocker --help`)", err)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main prints errors, once
	}
	for _, cmd := range app.Commands {
		name := cmd.Name
		cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%s: %v (see `minidocker %s --help`)", name, err, name)
		}
		cmd.UseShortOptionHandling = true
	}
	return app
}

// needArgs checks the positional arguments of a command.
func needArgs(c *cli.Context, min int, usage string) error {
	if c.NArg() < min {
		return fmt.Errorf("%q requires at least %d argument(s): usage: minidocker %s", c.Command.Name, min, usage)
	}
	return nil
}
