//go:build linux

package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"golang.org/x/sys/unix"
)

// Root is where images, layers and containers live (MINIDOCKER_ROOT overrides
// it, e.g. to keep a test's containers apart).
var Root = rootDir()

func rootDir() string {
	if r := os.Getenv("MINIDOCKER_ROOT"); r != "" {
		return r
	}
	return "/var/lib/minidocker"
}

// Container is what minidocker knows about one container: what was asked,
// in the Docker Engine API's own shapes (Config, HostConfig: the create
// request, from the CLI's flags or from an API client), and what happened
// (State, Network).
type Container struct {
	ID         string
	Name       string
	Image      string // the name the user gave
	ImageID    string
	Created    time.Time
	Config     types.Config
	HostConfig types.HostConfig
	State      State
	Network    NetworkSettings
	Mounts     []Mount
	// RestartCount counts the restarts of a restart policy since the
	// container was last started by a user (docker start resets it).
	RestartCount int `json:",omitempty"`
	// ManuallyStopped: a user stopped (or killed) it, so its monitor does
	// not restart it, and an unless-stopped container stays down when the
	// daemon starts again (Docker's HasBeenManuallyStopped).
	ManuallyStopped bool `json:",omitempty"`
}

// Command is what the container runs: the entrypoint, then the command.
func (c *Container) Command() []string {
	return append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...)
}

// Mount is one -v: a bind mount of a host path, or a named volume.
type Mount struct {
	Type        string // bind or volume
	Name        string `json:",omitempty"` // the volume's name
	Source      string
	Destination string
	RW          bool
}

type State struct {
	// created, running, restarting (its restart policy waits out the
	// back-off before the next start: a monitor answers for it), exited
	Status     string
	Paused     bool   `json:",omitempty"` // running, frozen (docker pause)
	Pid        int    // the container's init, as the host sees it
	PidStart   uint64 `json:",omitempty"` // its start time (field 22 of /proc/PID/stat): a reused PID is not ours
	MonitorPid int    // the process that waits on it (the CLI in the foreground, or `minidocker monitor`)
	MonStart   uint64 `json:",omitempty"`
	ExitCode   int
	OOMKilled  bool
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

type NetworkSettings struct {
	Mode        string
	NetworkID   string   `json:",omitempty"`
	Aliases     []string `json:",omitempty"` // names the neighbours resolve it by (compose: the service)
	IPAddress   string   `json:",omitempty"`
	IPPrefixLen int      `json:",omitempty"`
	Gateway     string   `json:",omitempty"`
	MacAddress  string   `json:",omitempty"`
	HostVeth    string   `json:",omitempty"`
	Bridge      string   `json:",omitempty"`
	// Ports are the published ports, host ports resolved (-p 80 gets a free one).
	Ports []PortBinding `json:",omitempty"`
	// Rules are the iptables rules added for this container (its -p DNAT and
	// FORWARD rules), as the arguments of `iptables -t TABLE -A ...`
	// without the -A: whoever releases the container, even after the
	// engine died, deletes exactly these.
	Rules [][]string `json:",omitempty"`
}

// PortBinding is one published port: HostIP:HostPort -> ContainerPort/Proto.
type PortBinding struct {
	HostIP        string // "" = every address (0.0.0.0)
	HostPort      int    // 0 until Start picks a free one
	ContainerPort int
	Proto         string // tcp or udp
}

// Dir is the container's directory: its record, logs, init layer and upper layer.
func Dir(id string) string { return filepath.Join(Root, "containers", id) }

func recordPath(id string) string { return filepath.Join(Dir(id), "config.v2.json") }

// region lock
// Lock takes the engine-wide lock: flock(2) on a file, released by the kernel
// even when the holder is killed -9, so a crash never leaves it stuck.
// Shell: flock /var/lib/minidocker/.lock CMD
func Lock() (unlock func(), err error) {
	if err := os.MkdirAll(Root, 0711); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(Root, ".lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // close drops the flock
}

// WriteFileAtomic writes to a temporary file in the same directory and
// renames it over path: rename(2) is atomic, so a reader sees the old or the
// new file, never a half-written one.
func WriteFileAtomic(path string, data []byte) error {
	// A temporary name of its own: the daemon's goroutines may write the
	// same record at once, and the last rename wins whole.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp.*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// endregion lock

// Save writes the record. Callers hold the lock (see Update).
func Save(c *Container) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(recordPath(c.ID), b)
}

// Warm builds, ahead, what encoding/json builds on its first use of a
// record's type in a process: its encoder and decoder (reflection over
// every field, half a millisecond). A spare monitor does it while it
// waits for its container.
func Warm() {
	b, _ := json.Marshal(&Container{})
	json.Unmarshal(b, &Container{})
}

// Update re-reads the record under the lock, applies fn and saves it, so two
// processes updating the same container do not overwrite each other.
func Update(id string, fn func(c *Container) error) (*Container, error) {
	unlock, err := Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	c, err := Load(id)
	if err != nil {
		return nil, err
	}
	if err := fn(c); err != nil {
		return c, err
	}
	return c, Save(c)
}

// region load
// Load reads one record by full id. A record is only ever replaced whole
// (rename), never written in place, so a new version is a new inode: a
// process that reads records again and again (the daemon's `ps` of a
// hundred containers) keeps what it decoded, keyed by inode, size and
// mtime, and decodes only what changed. Each caller gets its own copy.
func Load(id string) (*Container, error) {
	path := recordPath(id)
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	key := recordKey{st.Ino, st.Size, st.Mtim.Nano()}
	records.Lock()
	if r, ok := records.m[id]; ok && r.key == key {
		c := *r.c
		records.Unlock()
		return &c, nil
	}
	records.Unlock()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Container
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("container %s: broken record: %v", id, err)
	}
	records.Lock()
	if len(records.m) > 10000 { // a bound, not a policy: start afresh
		records.m = map[string]cachedRecord{}
	}
	kept := c
	records.m[id] = cachedRecord{key, &kept}
	records.Unlock()
	return &c, nil
}

type recordKey struct {
	ino        uint64
	size, nano int64
}

type cachedRecord struct {
	key recordKey
	c   *Container
}

var records = struct {
	sync.Mutex
	m map[string]cachedRecord
}{m: map[string]cachedRecord{}}

// endregion load

// List reads every record, newest first (as `docker ps` sorts).
func List() ([]*Container, error) {
	ents, err := os.ReadDir(filepath.Join(Root, "containers"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var cs []*Container
	for _, e := range ents {
		if c, err := Load(e.Name()); err == nil {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Created.After(cs[j].Created) })
	return cs, nil
}

// ErrNotFound is returned by Find for an unknown name or id.
var ErrNotFound = errors.New("no such container")

// Find resolves what a user typed: a full id, a name, or a unique id prefix.
func Find(ref string) (*Container, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: empty name", ErrNotFound)
	}
	if len(ref) == 64 {
		if c, err := Load(ref); err == nil {
			return c, nil
		}
	}
	cs, err := List()
	if err != nil {
		return nil, err
	}
	var match []*Container
	for _, c := range cs {
		if c.Name == ref || c.Name == strings.TrimPrefix(ref, "/") {
			return c, nil
		}
		if strings.HasPrefix(c.ID, ref) {
			match = append(match, c)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return nil, fmt.Errorf("%s matches %d containers: give more of the id", ref, len(match))
}

// NewID is 32 random bytes in hex, like Docker's; ps shows the first 12.
func NewID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// region create
// Create reserves a name and writes the first record, under the lock: two
// concurrent `run --name web` cannot both win. An empty name gets a
// generated one (adjective_scientist, like Docker's).
func Create(c *Container, starting bool) error {
	unlock, err := Lock()
	if err != nil {
		return err
	}
	defer unlock()
	cs, err := List()
	if err != nil {
		return err
	}
	taken := map[string]string{}
	for _, o := range cs {
		taken[o.Name] = o.ID
	}
	if c.Name == "" {
		for i := 0; c.Name == "" || taken[c.Name] != ""; i++ {
			c.Name = RandomName(i)
		}
	} else if id, ok := taken[c.Name]; ok {
		return fmt.Errorf("the container name %q is already in use by container %s: remove it (minidocker rm -f %s) or choose another --name", c.Name, id[:12], c.Name)
	}
	if err := os.MkdirAll(Dir(c.ID), 0710); err != nil {
		return err
	}
	c.State.Status = "created"
	if starting {
		// Who creates it to start it at once (run) answers for it until a
		// monitor takes over: if this process dies before the container
		// runs, Reconcile can tell. A container only created (create) has
		// nobody answering for it, and needs nobody.
		c.State.MonitorPid = os.Getpid()
		c.State.MonStart, _ = StartTime(c.State.MonitorPid)
	}
	if err := Save(c); err != nil {
		os.RemoveAll(Dir(c.ID))
		return err
	}
	return nil
}

// endregion create

var (
	adjectives = strings.Fields("admiring brave busy clever cool dazzling eager focused gallant happy jolly keen loving modest nifty quirky serene sharp tender upbeat vibrant wizardly zealous")
	surnames   = strings.Fields("babbage curie darwin einstein feynman galileo hopper kepler lamarr lovelace meitner newton noether pascal ritchie shannon thompson torvalds turing wozniak")
)

// RandomName picks adjective_surname; after a few collisions it adds a digit.
func RandomName(try int) string {
	b := make([]byte, 2)
	rand.Read(b)
	n := adjectives[int(b[0])%len(adjectives)] + "_" + surnames[int(b[1])%len(surnames)]
	if try > 5 {
		n += strconv.Itoa(try)
	}
	return n
}

// region alive
// StartTime is field 22 of /proc/PID/stat: when the process started, in
// clock ticks since boot. A PID can be reused after a crash; the pair
// (PID, start time) cannot, so it tells whether a recorded PID is still ours.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may contain spaces
	if i < 0 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, fmt.Errorf("process %d is a zombie", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// Alive tells whether pid is still the process that started at start.
// The first time, /proc/PID/stat says; then a pidfd of that very process
// (pidfd_open(2) cannot be fooled by a reused PID once it is open) answers
// with a poll(2), without reading /proc again: the daemon asks this of
// every container at every `ps`.
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	key := [2]uint64{uint64(pid), start}
	pidfds.Lock()
	fd, ok := pidfds.m[key]
	pidfds.Unlock()
	if ok {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 0); err == nil && n == 0 {
			return true // not readable: still running
		}
		pidfds.Lock()
		if pidfds.m[key] == fd {
			delete(pidfds.m, key)
			unix.Close(fd)
		}
		pidfds.Unlock()
		return false
	}
	if st, err := StartTime(pid); err != nil || st != start {
		return false
	}
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		if st, err := StartTime(pid); err != nil || st != start { // the PID was reused in between
			unix.Close(fd)
			return false
		}
		pidfds.Lock()
		if _, dup := pidfds.m[key]; dup || len(pidfds.m) > 4096 {
			unix.Close(fd)
		} else {
			pidfds.m[key] = fd
		}
		pidfds.Unlock()
	}
	return true
}

// pidfds are the descriptors Alive keeps, by (pid, start time).
var pidfds = struct {
	sync.Mutex
	m map[[2]uint64]int
}{m: map[[2]uint64]int{}}

// endregion alive

// Reconcile corrects a record whose processes died without saying so (the
// monitor or the CLI was killed -9): the kernel killed the container with
// them (PR_SET_PDEATHSIG), so it is exited, by SIGKILL. It returns true when
// it changed the record; the caller saves it.
func Reconcile(c *Container) bool {
	switch c.State.Status {
	case "running":
		if Alive(c.State.Pid, c.State.PidStart) {
			return false
		}
	case "created": // its creator died before it ran (run), or nobody started it yet (create)
		if c.State.MonitorPid == 0 {
			return false
		}
	case "restarting": // between two runs: only its monitor answers for it
		if Alive(c.State.MonitorPid, c.State.MonStart) {
			return false
		}
		c.State.Status = "exited" // it had exited already, with its own code
		return true
	default:
		return false
	}
	if Alive(c.State.MonitorPid, c.State.MonStart) {
		return false // the container just ended; its monitor is recording it
	}
	c.State.Paused = false
	c.State.Status = "exited"
	c.State.ExitCode = 137
	c.State.Error = fmt.Sprintf("the engine process %d died; the kernel killed the container with it", c.State.MonitorPid)
	c.State.FinishedAt = time.Now().UTC()
	return true
}

// Running is the status as `ps` should show it, after Reconcile.
func (c *Container) Running() bool { return c.State.Status == "running" }
