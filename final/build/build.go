//go:build linux

package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/dockerfile"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/inroot"
	"golang.org/x/sys/unix"
)

// Options is one build.
type Options struct {
	Context    string             // the context directory: only read, never written
	Dockerfile []byte             // the Dockerfile's text
	Tags       []string           // names for the result, as the store keeps them
	BuildArgs  map[string]*string // --build-arg K=V (nil: named without a value)
	Labels     map[string]string  // --label: a last LABEL step
	NoCache    bool
	Target     string    // the stage to stop at (--target)
	Network    string    // RUN's network: bridge (default), none or host
	Out        io.Writer // the steps as `docker build` prints them, and RUN's output
	Scratch    string    // an empty directory of the build's own on the store's filesystem
	// Pull fetches a base image the store does not have (or every base
	// image, with PullAlways: --pull).
	Pull       func(ctx context.Context, ref string) error
	PullAlways bool
	// Run runs a RUN step in a container (the engine's); see RunRequest.
	Run func(ctx context.Context, r RunRequest) (code int, err error)
	// Aux, if set, is told the ID of each stage's image (the API's aux message).
	Aux func(id string)
}

// RunRequest is one RUN: a container of Image running Args with the
// build's environment. Commit is called with the container's upper
// directory after a 0 exit, before the container is removed.
type RunRequest struct {
	Image     *image.Image
	Args      []string
	Env       []string // the build arguments in effect (the image's ENV comes with the image)
	Cwd, User string
	Network   string
	Out       io.Writer
	Commit    func(upper string) error
}

// ExitError is a RUN whose command failed: the build ends with its code.
type ExitError struct {
	Line int
	Cmd  string
	Code int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("Dockerfile line %d: RUN: the command '%s' returned a non-zero code: %d", e.Line, e.Cmd, e.Code)
}

// builder is one build under way.
type builder struct {
	o       Options
	ctx     context.Context
	ignore  *Ignore
	step    int // the step being run, 1-based
	total   int
	stages  []*stage
	meta    map[string]*string // ARGs before the first FROM
	used    map[string]bool    // build args some ARG declared
	scratch int                // scratch directories made so far
}

// stage is where a stage is: its image so far (nil: FROM scratch, no
// step yet), that image's config, and the ARGs it declared.
type stage struct {
	name string
	im   *image.Image
	cfg  *image.Config
	args map[string]string
	line int
}

// id is the ID of the stage's image so far: the parent in a cache key.
func (s *stage) id() string {
	if s.im == nil {
		return ""
	}
	return s.im.ID
}

// vars looks a name up as the builder expands $NAME: the config's ENV
// first, then the stage's ARGs (an ENV wins over an ARG of the same name).
func (s *stage) vars() dockerfile.Vars {
	env := dockerfile.EnvVars(s.cfg.Config.Env)
	return func(name string) (string, bool) {
		if v, ok := env(name); ok {
			return v, true
		}
		v, ok := s.args[name]
		return v, ok
	}
}

// argEnv is the ARGs in effect as a RUN's environment (sorted, those an
// ENV sets left out: the image's value wins).
func (s *stage) argEnv() []string {
	env := dockerfile.EnvVars(s.cfg.Config.Env)
	var out []string
	for k, v := range s.args {
		if _, set := env(k); !set {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

func (s *stage) lowerDirs() []string {
	if s.im == nil {
		return nil
	}
	return s.im.LowerDirs()
}

// region build
// Build runs the Dockerfile: the ARGs before the first FROM, then each
// stage up to --target, each instruction one step. A step's key is its
// parent image and its text (see image.CacheKey): when the store has an
// image for the key, the step is "Using cache" and nothing runs.
// Otherwise ENV, LABEL, CMD and the other config instructions make an
// image of a new config only, RUN runs a container and commits its upper
// layer, COPY and ADD copy into a layer of their own. The last stage's
// image gets the names (-t).
func Build(ctx context.Context, o Options) (*image.Image, error) {
	d, err := dockerfile.Parse(bytes.NewReader(o.Dockerfile))
	if err != nil {
		return nil, err
	}
	stages := d.Stages
	if o.Target != "" {
		i := findStage(stages, o.Target)
		if i < 0 {
			return nil, fmt.Errorf("target stage %q could not be found in the Dockerfile", o.Target)
		}
		stages = stages[:i+1]
	}
	ig, err := openIgnore(o.Context)
	if err != nil {
		return nil, err
	}
	b := &builder{o: o, ctx: ctx, ignore: ig, meta: map[string]*string{}, used: map[string]bool{}}
	b.total = len(d.MetaArgs)
	for _, st := range stages {
		b.total += 1 + len(st.Steps)
	}
	if len(o.Labels) > 0 {
		b.total++
	}
	for _, in := range d.MetaArgs {
		b.print(in)
		if err := b.metaArg(in); err != nil {
			return nil, err
		}
	}
	var st *stage
	for i, s := range stages {
		if st, err = b.from(s); err != nil {
			return nil, err
		}
		for _, in := range s.Steps {
			if err := ctx.Err(); err != nil {
				fmt.Fprintln(o.Out, "Build cancelled")
				return nil, errors.New("build cancelled")
			}
			b.print(in)
			if err := b.dispatch(st, in); err != nil {
				return nil, err
			}
			fmt.Fprintf(o.Out, " ---> %s\n", short(st.id()))
		}
		if i == len(stages)-1 && len(o.Labels) > 0 {
			if err := b.labels(st); err != nil {
				return nil, err
			}
		}
		if st.im == nil {
			return nil, fmt.Errorf("Dockerfile line %d: the stage FROM scratch made nothing: no image was generated", s.From.Line)
		}
		if o.Aux != nil {
			o.Aux(st.im.ID)
		}
		b.stages = append(b.stages, st)
	}
	b.warnUnused()
	fmt.Fprintf(o.Out, "Successfully built %s\n", short(st.im.ID))
	for _, t := range o.Tags {
		if _, err := image.Tag(st.im, t); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Out, "Successfully tagged %s\n", withTag(t))
	}
	return image.Find(st.im.ID)
}

// endregion build

func (b *builder) print(in dockerfile.Instruction) {
	b.step++
	fmt.Fprintf(b.o.Out, "Step %d/%d : %s\n", b.step, b.total, in.Original)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// withTag adds :latest to a name without a tag, as Docker prints names.
func withTag(name string) string {
	if i := strings.LastIndex(name, "/"); !strings.Contains(name[i+1:], ":") {
		return name + ":latest"
	}
	return name
}

func findStage(stages []dockerfile.Stage, name string) int {
	for i, s := range stages {
		if s.Name == strings.ToLower(name) {
			return i
		}
	}
	return -1
}

// openIgnore reads the context's .dockerignore, resolved inside the
// context (a stranger's .dockerignore may be a symlink to the daemon's
// /etc/shadow, whose lines an error message would then show).
func openIgnore(dir string) (*Ignore, error) {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("the build context: %v", err)
	}
	defer unix.Close(root)
	fd, err := inroot.Open(root, ".dockerignore", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
	if err != nil {
		return &Ignore{}, nil // none (or one that leads nowhere inside the context)
	}
	f := os.NewFile(uintptr(fd), ".dockerignore")
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return &Ignore{}, nil
	}
	return ParseIgnore(f)
}

// metaArg is an ARG before the first FROM: its value is there for the
// FROM lines, and for stages that declare it again (ARG NAME).
func (b *builder) metaArg(in dockerfile.Instruction) error {
	args, err := in.ArgList(b.metaVars())
	if err != nil {
		return err
	}
	for _, a := range args {
		b.used[a.Name] = true
		v := a.Default
		if given, ok := b.o.BuildArgs[a.Name]; ok && given != nil {
			v = given
		}
		b.meta[a.Name] = v
	}
	return nil
}

func (b *builder) metaVars() dockerfile.Vars {
	return func(name string) (string, bool) {
		if v := b.meta[name]; v != nil {
			return *v, true
		}
		return "", false
	}
}

// region from
// from starts a stage: its base is scratch (nothing), an earlier stage
// (by name or number), or an image, pulled if the store does not have it.
// The stage's steps will stack one layer each for RUN, COPY and ADD:
// more than a container's root can stack is refused here, before any
// step runs, with the number and what to do about it.
func (b *builder) from(s dockerfile.Stage) (*stage, error) {
	in := s.From
	b.print(in)
	if p, ok := in.Flag("platform"); ok {
		want := "linux/" + runtime.GOARCH
		if pp, err := dockerfile.ExpandWord(p, in.Escape, b.metaVars()); err != nil || (pp != want && pp != "linux") {
			return nil, in.Errorf("FROM --platform=%s: minidocker builds for this machine only (%s)", p, want)
		}
	}
	ref, err := dockerfile.ExpandWord(strings.Fields(in.Args[0])[0], in.Escape, b.metaVars())
	if err != nil {
		return nil, in.Errorf("FROM: %v", err)
	}
	if ref == "" {
		return nil, in.Errorf("FROM %s is empty once expanded (is the ARG set?)", strings.Fields(in.Args[0])[0])
	}
	st := &stage{name: s.Name, args: map[string]string{}, line: in.Line}
	switch prev := b.stageNamed(ref); {
	case strings.EqualFold(ref, "scratch"):
		st.cfg = image.NewConfig(time.Now().UTC())
	case prev != nil:
		st.im, st.cfg = prev.im, prev.cfg
	default:
		if st.im, err = b.image(in, ref); err != nil {
			return nil, err
		}
		if st.cfg, err = st.im.Config(); err != nil {
			return nil, err
		}
	}
	st.cfg = copyConfig(st.cfg)
	triggers := st.cfg.Config.OnBuild
	st.cfg.Config.OnBuild = nil // triggers run once, in the image built FROM this one
	fmt.Fprintf(b.o.Out, " ---> %s\n", short(st.id()))
	layers := 0
	if st.im != nil {
		layers = len(st.im.Layers)
	}
	steps := len(triggers)
	for _, in := range s.Steps {
		if in.Cmd == "RUN" || in.Cmd == "COPY" || in.Cmd == "ADD" {
			steps++
		}
	}
	if err := image.CheckLayerCount(layers + steps); err != nil {
		return nil, in.Errorf("this stage could stack %d layers (%d from %s, one for each of its %d RUN, COPY and ADD): %v. "+
			"Use fewer layers: join RUNs with &&, COPY a directory once rather than file by file, or make it a multi-stage "+
			"build that does the work in a first stage and COPYs --from it only what the image needs", layers+steps, layers, ref, steps, err)
	}
	if len(triggers) > 0 {
		fmt.Fprintf(b.o.Out, "# Executing %d build trigger(s)\n", len(triggers))
	}
	for _, t := range triggers {
		trig, err := dockerfile.ParseLine(t)
		if err != nil {
			return nil, in.Errorf("ONBUILD trigger of %s: %v", ref, err)
		}
		trig.Line = in.Line
		if err := b.dispatch(st, trig); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// endregion from

// stageNamed is an earlier stage by its name or its number (0, 1, ...).
func (b *builder) stageNamed(ref string) *stage {
	for i, st := range b.stages {
		if (st.name != "" && st.name == strings.ToLower(ref)) || strconv.Itoa(i) == ref {
			return st
		}
	}
	return nil
}

// image finds a base image, and pulls it if the store does not have it.
func (b *builder) image(in dockerfile.Instruction, ref string) (*image.Image, error) {
	if b.o.PullAlways && b.o.Pull != nil {
		if err := b.o.Pull(b.ctx, ref); err != nil {
			return nil, in.Errorf("%s: %v", ref, err)
		}
	}
	im, err := image.Get(ref)
	if errors.Is(err, image.ErrNotFound) && b.o.Pull != nil {
		if err := b.o.Pull(b.ctx, ref); err != nil {
			return nil, in.Errorf("%s: %v", ref, err)
		}
		im, err = image.Get(ref)
	}
	if err != nil {
		return nil, in.Errorf("%s: %v", ref, err)
	}
	return im, nil
}

// copyConfig is a deep copy (the config has maps and slices).
func copyConfig(c *image.Config) *image.Config {
	b, _ := json.Marshal(c)
	var out image.Config
	json.Unmarshal(b, &out)
	if out.RootFS.DiffIDs == nil {
		out.RootFS.DiffIDs = []string{}
	}
	return &out
}

// dispatch runs one instruction of a stage.
func (b *builder) dispatch(st *stage, in dockerfile.Instruction) error {
	switch in.Cmd {
	case "RUN":
		return b.run(st, in)
	case "COPY", "ADD":
		return b.copy(st, in)
	case "ARG":
		return b.arg(st, in)
	case "MAINTAINER":
		who, err := dockerfile.ExpandWord(in.Args[0], in.Escape, st.vars())
		if err != nil {
			return in.Errorf("MAINTAINER: %v", err)
		}
		return b.configStep(st, "MAINTAINER "+who, st.cfg.Config, who)
	}
	cc := copyConfig(st.cfg).Config
	text, err := dockerfile.Apply(&cc, in, st.vars())
	if err != nil {
		return err
	}
	return b.configStep(st, text, cc, st.cfg.Author)
}

// arg is ARG in a stage: a --build-arg of that name, else its default,
// else (ARG NAME alone) the value of the ARG of that name before FROM.
func (b *builder) arg(st *stage, in dockerfile.Instruction) error {
	args, err := in.ArgList(st.vars())
	if err != nil {
		return err
	}
	var shown []string
	for _, a := range args {
		b.used[a.Name] = true
		v := a.Default
		if v == nil {
			v = b.meta[a.Name]
		}
		if given, ok := b.o.BuildArgs[a.Name]; ok && given != nil {
			v = given
		}
		if v == nil {
			delete(st.args, a.Name)
			shown = append(shown, a.Name)
			continue
		}
		st.args[a.Name] = *v
		shown = append(shown, a.Name+"="+*v)
	}
	return b.configStep(st, "ARG "+strings.Join(shown, " "), st.cfg.Config, st.cfg.Author)
}

// labels is --label: one LABEL step at the end of the last stage.
func (b *builder) labels(st *stage) error {
	keys := make([]string, 0, len(b.o.Labels))
	for k := range b.o.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cc := copyConfig(st.cfg).Config
	if cc.Labels == nil {
		cc.Labels = map[string]string{}
	}
	text := "LABEL"
	for _, k := range keys {
		cc.Labels[k] = b.o.Labels[k]
		text += " " + strconv.Quote(k) + "=" + strconv.Quote(b.o.Labels[k])
	}
	b.step++
	fmt.Fprintf(b.o.Out, "Step %d/%d : %s\n", b.step, b.total, text)
	if err := b.configStep(st, text, cc, st.cfg.Author); err != nil {
		return err
	}
	fmt.Fprintf(b.o.Out, " ---> %s\n", short(st.id()))
	return nil
}

// region configstep
// configStep is a step that changes only the config (ENV, CMD, LABEL...):
// no container, no layer, an image of a new config whose history gets an
// "empty layer" entry, as `docker history` shows with 0B.
func (b *builder) configStep(st *stage, text string, cc image.ContainerConfig, author string) error {
	createdBy := "/bin/sh -c #(nop) " + text
	key := image.CacheKey(st.id(), createdBy)
	if b.cached(st, key) {
		return nil
	}
	cfg := b.next(st)
	cfg.Config, cfg.Author = cc, author
	cfg.History = append(cfg.History, image.History{Created: cfg.Created, CreatedBy: createdBy, Author: author, EmptyLayer: true})
	return b.record(st, cfg, key)
}

// endregion configstep

// cached moves the stage to the image a step with this key made before,
// if the store still has it (and the build may use the cache).
func (b *builder) cached(st *stage, key string) bool {
	if b.o.NoCache {
		return false
	}
	im, ok := image.CacheLookup(key)
	if !ok {
		return false
	}
	cfg, err := im.Config()
	if err != nil {
		return false
	}
	fmt.Fprintln(b.o.Out, " ---> Using cache")
	st.im, st.cfg = im, cfg
	return true
}

// next is the stage's config for the next step: a copy, dated now.
func (b *builder) next(st *stage) *image.Config {
	cfg := copyConfig(st.cfg)
	now := time.Now().UTC()
	cfg.Created = &now
	return cfg
}

// record stores a config-only step's image and its cache key.
func (b *builder) record(st *stage, cfg *image.Config, key string) error {
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if len(data) > image.MaxConfig {
		return fmt.Errorf("the image config would be %d bytes, more than the %d the store reads back", len(data), image.MaxConfig)
	}
	im, err := image.Add(data, nil, nil, "", st.id())
	if err != nil {
		return err
	}
	return b.done(st, im, key)
}

// done makes im the stage's image, found by key from now on.
func (b *builder) done(st *stage, im *image.Image, key string) error {
	if err := image.SetBuildKey(im, key); err != nil {
		return err
	}
	cfg, err := im.Config()
	if err != nil {
		return err
	}
	st.im, st.cfg = im, cfg
	return nil
}

// region run
// run is RUN: the shell form runs as the SHELL (/bin/sh -c "TEXT"), the
// exec form as it is, in a container of the stage's image with its ENV
// and the ARGs in effect. The ARGs are part of the step's key (Docker
// writes them as |N K=V before the command): the same RUN with another
// --build-arg value runs again. An exit status other than 0 ends the
// build with it; the container goes either way.
func (b *builder) run(st *stage, in dockerfile.Instruction) error {
	cmd := in.Args
	if !in.JSON {
		cmd = append(dockerfile.Shell(st.cfg.Config), in.Args[0])
	}
	env := st.argEnv()
	createdBy := strings.Join(cmd, " ")
	if len(env) > 0 {
		createdBy = fmt.Sprintf("|%d %s %s", len(env), strings.Join(env, " "), createdBy)
	}
	key := image.CacheKey(st.id(), createdBy)
	if b.cached(st, key) {
		return nil
	}
	if st.im == nil {
		return in.Errorf("RUN in a stage FROM scratch with nothing in it yet: there is no /bin/sh (or any program) to run")
	}
	if err := image.CheckLayerCount(len(st.im.Layers)); err != nil {
		return in.Errorf("RUN: %v", err)
	}
	cfg := b.next(st)
	var made *image.Image
	commit := func(upper string) error {
		step := image.History{Created: cfg.Created, CreatedBy: createdBy}
		var err error
		made, err = b.commitLayer(st, cfg, upper, step)
		return err
	}
	code, err := b.o.Run(b.ctx, RunRequest{Image: st.im, Args: cmd, Env: env, Cwd: st.cfg.Config.WorkingDir,
		User: st.cfg.Config.User, Network: b.o.Network, Out: b.o.Out, Commit: commit})
	if err != nil {
		return in.Errorf("RUN: %v", err)
	}
	if code != 0 {
		return &ExitError{Line: in.Line, Cmd: strings.Join(cmd, " "), Code: code}
	}
	return b.done(st, made, key)
}

// endregion run

// commitLayer makes the step's image from an upper directory: one layer
// more, or, if the step changed no file, an empty-layer history entry
// (as Docker does for `RUN true`).
func (b *builder) commitLayer(st *stage, cfg *image.Config, upper string, step image.History) (*image.Image, error) {
	if empty, err := isEmptyDir(upper); err != nil {
		return nil, err
	} else if empty {
		step.EmptyLayer = true
		cfg.History = append(cfg.History, step)
		data, _ := json.Marshal(cfg)
		if len(data) > image.MaxConfig {
			return nil, fmt.Errorf("the image config would be %d bytes, more than the %d the store reads back", len(data), image.MaxConfig)
		}
		return image.Add(data, nil, nil, "", st.id())
	}
	if data, _ := json.Marshal(cfg); len(data)+len(step.CreatedBy)+512 > image.MaxConfig {
		return nil, fmt.Errorf("the image config would be more than the %d bytes the store reads back", image.MaxConfig)
	}
	return image.CommitUpper(st.im, upper, cfg, step)
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err == io.EOF {
		return true, nil
	}
	return len(names) == 0, err
}

// scratchDirs makes a fresh upper and work directory for a step.
func (b *builder) scratchDirs() (upper, work string, err error) {
	b.scratch++
	dir := filepath.Join(b.o.Scratch, strconv.Itoa(b.scratch))
	upper, work = filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0700); err != nil {
			return "", "", err
		}
	}
	return upper, work, nil
}

// warnUnused says which --build-arg no ARG declared, as Docker does.
func (b *builder) warnUnused() {
	var unused []string
	for k := range b.o.BuildArgs {
		if !b.used[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(b.o.Out, "[Warning] One or more build-args [%s] were not consumed\n", strings.Join(unused, " "))
	}
}
