//go:build linux

package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/build"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/dockerfile"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/urfave/cli/v2"
)

// buildCommands are `build` and `image prune` (chapter 12).
func buildCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "build", Usage: "build an image from a Dockerfile", ArgsUsage: "PATH | -", Action: buildCmd, Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "a name for the image: NAME[:TAG]"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "the Dockerfile (default: PATH/Dockerfile; - for stdin)"},
			&cli.StringSliceFlag{Name: "build-arg", Usage: "a build argument K=V (K alone: from the environment)"},
			&cli.BoolFlag{Name: "no-cache", Usage: "run every step again, without the build cache"},
			&cli.StringFlag{Name: "target", Usage: "the stage to build (and stop at)"},
			&cli.StringSliceFlag{Name: "label", Usage: "a label K=V for the image"},
			&cli.StringFlag{Name: "network", Value: "default", Usage: "RUN's network: bridge, none, host or a network's name (default: bridge; host when rootless)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image ID"},
			&cli.StringFlag{Name: "iidfile", Usage: "write the image ID to this file"},
			&cli.BoolFlag{Name: "pull", Usage: "pull the base images even if they are here"},
			&cli.BoolFlag{Name: "rm", Value: true, Usage: "remove the intermediate containers (always)"},
			&cli.BoolFlag{Name: "force-rm", Usage: "remove the intermediate containers even after a failure (always)"},
		}},
		{Name: "image", Usage: "manage images", Subcommands: []*cli.Command{
			{Name: "prune", Usage: "remove unused images (and the build cache under them)", Action: pruneCmd, Flags: []cli.Flag{
				&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "every image no container uses, not only those without a name"},
				&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask"},
			}},
		}},
	}
}

// region buildcmd
// buildCmd is `build`: the options as the docker CLI reads them. A
// directory context is given to the engine as it is (the daemonless one
// reads it where it is; the remote one tars it, .dockerignore applied);
// `build -` reads a tarball, or a lone Dockerfile, from stdin.
func buildCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "build [OPTIONS] PATH | -"); err != nil {
		return err
	}
	opts := engine.BuildOptions{Tags: c.StringSlice("tag"), NoCache: c.Bool("no-cache"), Target: c.String("target"),
		NetworkMode: c.String("network"), Quiet: c.Bool("quiet"), Pull: c.Bool("pull")}
	for _, kv := range c.StringSlice("build-arg") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			if env, set := os.LookupEnv(k); set {
				v, ok = env, true
			}
		}
		if opts.BuildArgs == nil {
			opts.BuildArgs = map[string]*string{}
		}
		opts.BuildArgs[k] = nil
		if ok {
			opts.BuildArgs[k] = &v
		}
	}
	for _, kv := range c.StringSlice("label") {
		k, v, _ := strings.Cut(kv, "=")
		if opts.Labels == nil {
			opts.Labels = map[string]string{}
		}
		opts.Labels[k] = v
	}
	file, ctxArg := c.String("file"), c.Args().First()
	if ctxArg == "-" {
		if file == "-" {
			return errors.New("invalid argument: can't use stdin for both build context and dockerfile")
		}
		r, err := stdinContext(file)
		if err != nil {
			return err
		}
		opts.Context, opts.Dockerfile = r, file
	} else {
		if fi, err := os.Stat(ctxArg); err != nil || !fi.IsDir() {
			return fmt.Errorf("unable to prepare context: path %q not found (or not a directory)", ctxArg)
		}
		dir, err := filepath.Abs(ctxArg)
		if err != nil {
			return err
		}
		opts.ContextDir = dir
		if file == "-" {
			b, err := io.ReadAll(io.LimitReader(os.Stdin, dockerfile.MaxDockerfile+1))
			if err != nil {
				return err
			}
			opts.DockerfileText = b
		} else if opts.Dockerfile, opts.DockerfileText, err = build.DockerfileIn(dir, file); err != nil {
			return err
		}
	}
	show := progressWriter(os.Stdout)
	id, err := eng.ImageBuild(ctx, opts, show)
	if err != nil {
		return err
	}
	if p := c.String("iidfile"); p != "" {
		return os.WriteFile(p, []byte(id), 0644)
	}
	return nil
}

// endregion buildcmd

// stdinContext is `build -`: stdin is a context tarball (plain or
// compressed), or else a Dockerfile alone, which becomes a context of one
// file named Dockerfile (or the -f name), as the docker CLI does.
func stdinContext(file string) (io.Reader, error) {
	if container.IsTerminal(0) {
		return nil, errors.New("build -: stdin is a terminal: pipe a tarball or a Dockerfile into it")
	}
	br := bufio.NewReaderSize(os.Stdin, 1<<16)
	head, _ := br.Peek(512)
	isTar := len(head) >= 262 && string(head[257:262]) == "ustar"
	for _, magic := range [][]byte{{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z'}, {0x28, 0xb5, 0x2f, 0xfd}} {
		isTar = isTar || bytes.HasPrefix(head, magic)
	}
	if isTar {
		return br, nil
	}
	text, err := io.ReadAll(io.LimitReader(br, dockerfile.MaxDockerfile+1))
	if err != nil {
		return nil, err
	}
	if file == "" {
		file = "Dockerfile"
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: file, Mode: 0644, Size: int64(len(text)), Typeflag: tar.TypeReg})
	tw.Write(text)
	tw.Close()
	return &buf, nil
}

func pruneCmd(c *cli.Context) error {
	if !c.Bool("force") {
		what := "all dangling images"
		if c.Bool("all") {
			what = "all images without at least one container associated to them"
		}
		fmt.Printf("WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ", what)
		answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return nil
		}
	}
	rep, err := eng.ImagesPrune(ctx, engine.PruneOptions{All: c.Bool("all")})
	if err != nil {
		return err
	}
	if len(rep.ImagesDeleted) > 0 {
		fmt.Println("Deleted Images:")
		for _, it := range rep.ImagesDeleted {
			if it.Untagged != "" {
				fmt.Println("untagged: " + it.Untagged)
			}
			if it.Deleted != "" {
				fmt.Println("deleted: " + it.Deleted)
			}
		}
		fmt.Println()
	}
	fmt.Printf("Total reclaimed space: %s\n", decSize(int64(rep.SpaceReclaimed)))
	return nil
}
