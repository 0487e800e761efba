//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine/local"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/security"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func daemonCommand() *cli.Command {
	return &cli.Command{Name: "daemon", Usage: "serve the Docker Engine API (the docker CLI and docker-compose can use it)", Action: daemonCmd, Flags: []cli.Flag{
		&cli.StringFlag{Name: "host", Aliases: []string{"H"}, Value: "unix://" + api.DefaultSocket, Usage: "where to listen: unix:///path or tcp://HOST:PORT (TCP needs --tlsverify)"},
		&cli.StringFlag{Name: "group", Aliases: []string{"G"}, Value: "minidocker", Usage: "the group that may use the unix socket (mode 0660)"},
		&cli.BoolFlag{Name: "tlsverify", Usage: "mutual TLS: only clients with a certificate signed by --tlscacert"},
		&cli.StringFlag{Name: "tlscacert", Usage: "the CA that signs the clients' certificates"},
		&cli.StringFlag{Name: "tlscert", Usage: "the daemon's certificate"},
		&cli.StringFlag{Name: "tlskey", Usage: "the daemon's key"},
		&cli.StringFlag{Name: "userns-remap", Usage: "default: every container gets a user namespace of its own (its root is an unprivileged uid here) unless it asks --userns=host", EnvVars: []string{"MINIDOCKER_USERNS_REMAP"}},
	}}
}

// region daemon
// daemonCmd is `minidocker daemon`: the local engine behind the Engine API.
// It owns nothing the containers need to keep running: each has its
// monitor, so killing the daemon loses none of them, and a new daemon
// finds them all in the state directory (live restore).
func daemonCmd(c *cli.Context) error {
	l, err := api.Listen(c.String("host"), c.String("group"), api.TLS{Verify: c.Bool("tlsverify"),
		CACert: c.String("tlscacert"), Cert: c.String("tlscert"), Key: c.String("tlskey")})
	if err != nil {
		return err
	}
	eng := local.New(Version, true)
	eng.Insecure = c.StringSlice("insecure-registry")
	if r := c.String("userns-remap"); r != "" && r != "default" && r != security.RemapUser {
		return fmt.Errorf("invalid --userns-remap %q: minidocker knows only default (the %s ranges of /etc/subuid and /etc/subgid)", r, security.RemapUser)
	}
	eng.UsernsRemap = c.String("userns-remap")
	logger := log.New(os.Stderr, "minidocker daemon: ", 0)
	restore(eng, logger)
	container.KeepSpare() // a monitor started ahead: see container.StartMonitor
	srv := api.New(eng, Version)
	srv.Log = logger
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second, ErrorLog: srv.Log}
	fmt.Fprintf(os.Stderr, "minidocker daemon: API %s listening on %s (state in %s)\n", "1.44", c.String("host"), state.Root)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, unix.SIGTERM, unix.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx) // the containers keep running (live restore)
		hs.Close()
	}()
	err = hs.Serve(l)
	if path := api.SocketPath(c.String("host")); path != "" {
		os.Remove(path)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// endregion daemon

// region restore
// restore looks at every container once when the daemon starts: a
// container whose monitor died with its host process (kill -9, a crash)
// is recorded as exited and its kernel objects released; the others
// still run, held by their monitors. Then the restart policies: after a
// reboot (or whatever killed the monitors), a container that ran before
// and whose policy says so is started again, as dockerd does when it
// starts: always (even one a user stopped), unless-stopped (unless a user
// stopped it), on-failure (it failed, and has retries left).
func restore(e *local.Engine, logger *log.Logger) {
	cs, _ := state.List()
	known := map[string]bool{}
	var again []*state.Container
	for _, c := range cs {
		c = container.Refresh(c)
		known[c.ID[:12]] = true
		p := c.HostConfig.RestartPolicy
		if c.State.Status == "exited" && !c.State.StartedAt.IsZero() && container.WantsRestart(p, c.State.ExitCode, c.RestartCount, c.ManuallyStopped) {
			again = append(again, c)
		}
	}
	cgroups.Sweep(func(short string) bool { return known[short] })
	image.Sweep() // blobs and layers half-made by a pull that died with its process
	for _, c := range again {
		logger.Printf("starting %s again (--restart %s)", c.Name, c.HostConfig.RestartPolicy.Name)
		if err := e.ContainerStart(context.Background(), c.ID); err != nil {
			logger.Printf("start %s: %v", c.Name, err)
		}
	}
}

// endregion restore
