//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/reference"
	"github.com/minidocker/build-your-own-docker/final/registry"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/urfave/cli/v2"
)

// imageCommands are the registry and archive commands (chapter 11).
func imageCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "pull", Usage: "download an image from a registry", ArgsUsage: "NAME[:TAG|@DIGEST]", Action: pullCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "platform", Usage: "os/arch[/variant] to pick from a multi-platform image (default: this machine's)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image's name"},
		}},
		{Name: "push", Usage: "upload an image to a registry", ArgsUsage: "NAME[:TAG]", Action: pushCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}},
		}},
		{Name: "save", Usage: "write images as a `docker save` tarball", ArgsUsage: "IMAGE...", Action: saveCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "file to write (default: stdout)"},
		}},
		{Name: "load", Usage: "read images from a `docker save` tarball", Action: loadCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "file to read (default: stdin)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}},
		}},
		{Name: "history", Usage: "the steps that made an image, newest first", ArgsUsage: "IMAGE", Action: historyCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not shorten the commands"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}},
		}},
		{Name: "login", Usage: "log in to a registry (credentials go to ~/.docker/config.json, 0600)", ArgsUsage: "[SERVER]", Action: loginCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from stdin"},
		}},
		{Name: "logout", Usage: "forget a registry's credentials", ArgsUsage: "[SERVER]", Action: logoutCmd},
		{Name: "system", Usage: "the whole engine", Subcommands: []*cli.Command{
			{Name: "df", Usage: "disk used by images (each layer counted once), containers and volumes", Action: dfCmd},
		}},
	}
}

// region progress
// progressWriter draws a progress stream as the docker CLI does: on a
// terminal one line per layer, redrawn in place (the cursor goes up to the
// layer's line: ESC[nA, and clears it: ESC[2K); elsewhere one line per
// status change, without the bars.
func progressWriter(out *os.File) func(types.JSONMessage) {
	tty := container.IsTerminal(int(out.Fd()))
	w := bufio.NewWriter(out)
	var ids []string
	return func(m types.JSONMessage) {
		defer w.Flush()
		line := m.Status
		if m.Stream != "" {
			fmt.Fprint(w, m.Stream)
			return
		}
		if m.ID != "" {
			line = m.ID + ": " + m.Status
		}
		if m.ProgressMessage != "" {
			if !tty {
				return // docker shows no bars where nobody watches them
			}
			line += " " + m.ProgressMessage
		}
		if m.ID == "" || !tty || m.Progress == nil {
			if m.ID != "" && tty {
				ids = append(ids, m.ID) // "Pulling from ..." lines get their own row
			}
			if line != "" {
				fmt.Fprintln(w, line)
			}
			return
		}
		for i, id := range ids {
			if id == m.ID {
				up := len(ids) - i
				fmt.Fprintf(w, "\x1b[%dA\x1b[2K\r%s\x1b[%dB\r", up, line, up)
				return
			}
		}
		ids = append(ids, m.ID)
		fmt.Fprintln(w, line)
	}
}

// endregion progress

// credentials are the user's for the registry of ref, from config.json.
func credentials(ref string) *types.AuthConfig {
	r, err := reference.Parse(ref)
	if err != nil {
		return nil
	}
	return registry.LookupAuth(r.Domain)
}

func pullCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "pull NAME[:TAG|@DIGEST]"); err != nil {
		return err
	}
	return pull(c.Args().First(), c.String("platform"), c.Bool("quiet"), os.Stdout)
}

// pull is `pull` (progress on stdout) and run's pull of a missing image
// (on stderr); it ends, as docker pull does, with the full name.
func pull(ref, platform string, quiet bool, out *os.File) error {
	r, err := reference.Parse(ref)
	if err != nil {
		return err
	}
	show := progressWriter(out)
	if quiet {
		show = func(types.JSONMessage) {}
	}
	err = eng.ImagePull(ctx, ref, engine.PullOptions{Platform: platform, Auth: credentials(ref)}, show)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, r.String())
	return nil
}

// region runpull
// withPull runs create, and if the image is missing, pulls it and tries
// again, as docker run does ("Unable to find image 'x' locally"); --pull
// always pulls first, --pull never does not pull.
func withPull(image, policy, platform string, create func() error) error {
	switch policy {
	case "", "missing":
	case "always":
		if err := pull(image, platform, false, os.Stderr); err != nil {
			return err
		}
	case "never":
		return create()
	default:
		return fmt.Errorf("invalid pull option: %q: must be one of \"always\", \"missing\" or \"never\"", policy)
	}
	err := create()
	var e *engine.Error
	if !errors.As(err, &e) || !errors.Is(err, engine.ErrNotFound) || !strings.HasPrefix(e.Msg, "No such image") {
		return err
	}
	fmt.Fprintf(os.Stderr, "Unable to find image '%s' locally\n", withLatest(image))
	if err := pull(image, platform, false, os.Stderr); err != nil {
		return err
	}
	return create()
}

// endregion runpull

func withLatest(ref string) string {
	if r, err := reference.Parse(ref); err == nil {
		return r.Familiar()
	}
	return ref
}

func pushCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "push NAME[:TAG]"); err != nil {
		return err
	}
	show := progressWriter(os.Stdout)
	if c.Bool("quiet") {
		show = func(types.JSONMessage) {}
	}
	ref := c.Args().First()
	return eng.ImagePush(ctx, ref, engine.PushOptions{Auth: credentials(ref)}, show)
}

func saveCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "save [-o FILE] IMAGE..."); err != nil {
		return err
	}
	output := c.String("output")
	if output == "" && container.IsTerminal(1) {
		return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
	}
	return writeOutput(output, func(w io.Writer) error { return eng.ImageSave(ctx, c.Args().Slice(), w) })
}

func loadCmd(c *cli.Context) error {
	var r io.Reader = os.Stdin
	if p := c.String("input"); p != "" {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	} else if container.IsTerminal(0) {
		return errors.New("requested load from stdin, but stdin is empty (use -i FILE, or a pipe)")
	}
	show := progressWriter(os.Stdout)
	if c.Bool("quiet") {
		show = func(m types.JSONMessage) {
			if m.Stream != "" {
				fmt.Print(m.Stream)
			}
		}
	}
	return eng.ImageLoad(ctx, r, show)
}

func historyCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "history IMAGE"); err != nil {
		return err
	}
	h, err := eng.ImageHistory(ctx, c.Args().First())
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !c.Bool("quiet") {
		fmt.Fprintln(w, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
	}
	for _, it := range h {
		id := it.ID
		if strings.HasPrefix(id, "sha256:") && !c.Bool("no-trunc") {
			id = id[7:19]
		}
		if c.Bool("quiet") {
			fmt.Fprintln(w, id)
			continue
		}
		by := strings.ReplaceAll(it.CreatedBy, "\t", " ")
		if len(by) > 45 && !c.Bool("no-trunc") {
			by = by[:44] + "…"
		}
		created := "N/A"
		if it.Created > 0 {
			created = state.HumanDuration(time.Since(time.Unix(it.Created, 0))) + " ago"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", id, created, by, decSize(it.Size), it.Comment)
	}
	return w.Flush()
}

// region login
// loginCmd checks the credentials with the registry (through the engine:
// the daemon's POST /auth, or here), then stores them as the docker CLI
// does, in config.json, mode 0600.
func loginCmd(c *cli.Context) error {
	server := c.Args().First()
	if server == "" {
		server = reference.DefaultDomain
	}
	user, pass := c.String("username"), c.String("password")
	if c.Bool("password-stdin") {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
		if err != nil {
			return err
		}
		pass = strings.TrimRight(string(b), "\r\n")
	}
	if user == "" || pass == "" {
		return errors.New("login needs --username and --password (or --password-stdin)")
	}
	resp, err := eng.RegistryLogin(ctx, types.AuthConfig{Username: user, Password: pass, ServerAddress: server})
	if err != nil {
		return err
	}
	if err := registry.StoreAuth(server, user, pass); err != nil {
		return err
	}
	fmt.Printf("WARNING! Your credentials are stored unencrypted in '%s'.\n", registry.ConfigPath())
	fmt.Println(resp.Status)
	return nil
}

// endregion login

func logoutCmd(c *cli.Context) error {
	server := c.Args().First()
	if server == "" {
		server = reference.DefaultDomain
	}
	if err := registry.StoreAuth(server, "", ""); err != nil {
		return err
	}
	fmt.Println("Removing login credentials for " + server)
	return nil
}

func dfCmd(c *cli.Context) error {
	du, err := eng.DiskUsage(ctx)
	if err != nil {
		return err
	}
	active := 0
	for _, im := range du.Images {
		if im.Containers > 0 {
			active++
		}
	}
	running := 0
	for _, ct := range du.Containers {
		if ct.State == "running" {
			running++
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	fmt.Fprintln(w, "TYPE\tTOTAL\tACTIVE\tSIZE")
	fmt.Fprintf(w, "Images\t%d\t%d\t%s\n", len(du.Images), active, decSize(du.LayersSize))
	fmt.Fprintf(w, "Containers\t%d\t%d\t%s\n", len(du.Containers), running, "-")
	fmt.Fprintf(w, "Local Volumes\t%d\t%d\t%s\n", len(du.Volumes), 0, "-")
	return w.Flush()
}
