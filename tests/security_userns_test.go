//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/security"
	"golang.org/x/sys/unix"
)

// hostUID is the first uid of /proc/PID/status: the real uid the host sees.
func hostUID(t *testing.T, pid int) int {
	t.Helper()
	n, err := strconv.Atoi(procStatus(t, pid, "Uid"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func fileOwner(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

// idmapProbe tells, by itself and without minidocker, whether this kernel
// and the filesystem of minidocker's layers take an idmapped mount: it
// clones the mount of dir (open_tree) and gives it the user namespace of
// a child in one of its own (mount_setattr MOUNT_ATTR_IDMAP). The clone is
// never attached anywhere; closing it drops it.
func idmapProbe(t *testing.T, dir string) error {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 1}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ns)
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_tree: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns)}); err != nil {
		return fmt.Errorf("mount_setattr MOUNT_ATTR_IDMAP: %v", err)
	}
	return nil
}

// rootLower is the lowerdir of the overlay that is a process's root, as
// its mountinfo shows it (lowerdir=A:B, or lowerdir+=A,lowerdir+=B).
func rootLower(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == "/" && strings.Contains(line, " - overlay ") {
			return line[strings.Index(line, " - overlay "):]
		}
	}
	t.Fatalf("no overlay at / in the mountinfo of %d:\n%s", pid, b)
	return ""
}

// TestSecurityUserns: with --userns=private, root in the container is uid
// 100000 or more on the host (its init, its command, an exec'd process);
// a file it creates in a bind-mounted directory or in a new named volume
// belongs to that uid; a root-only host file bound in cannot be read
// (and can with --userns=host: the test shows the namespace, not a broken
// mount). Both ways of giving it the image's layers are run: idmapped
// mounts where the kernel has them (the container's root is then stacked
// on its own mount points, layers/N), and the chown copy (stacked on
// userns/UID.GID/layers/DIFFID, made by this run and owned by the mapped
// root).
func TestSecurityUserns(t *testing.T) {
	md := minidockerTest(t)
	uids, gids, err := security.RemapRanges()
	if err != nil {
		t.Fatalf("%v", err)
	}
	if uids.Start < 100000 || gids.Start < 100000 {
		t.Fatalf("the minidocker ranges of /etc/subuid and /etc/subgid start below 100000: %v %v", uids, gids)
	}
	busybox := jget(inspect(t, md, "busybox"), "RootFS.Layers").([]any)
	diffID := strings.TrimPrefix(busybox[len(busybox)-1].(string), "sha256:")
	idmapErr := idmapProbe(t, filepath.Join(mdRoot(), "layers", diffID))
	t.Logf("idmapped mounts of the layers here: %v", map[bool]any{true: "yes", false: idmapErr}[idmapErr == nil])
	copied := filepath.Join(mdRoot(), "userns", fmt.Sprintf("%d.%d", uids.Start, gids.Start), "layers", diffID)
	shared := t.TempDir()
	os.Chmod(filepath.Dir(shared), 0755) // the mapped root must reach its bind mounts' sources (docs/pitfalls.md)
	os.Chmod(shared, 0755)
	vol := filepath.Join(shared, "vol")
	os.Mkdir(vol, 0755)
	os.Chown(vol, int(uids.Start), int(gids.Start)) // the mapped root's, as a prepared volume would be
	secret := filepath.Join(shared, "secret")
	os.WriteFile(secret, []byte("host root only\n"), 0600)
	for _, way := range []string{"idmap", "copy"} {
		t.Run(way, func(t *testing.T) {
			env := os.Environ()
			if way == "copy" {
				env = append(env, "MINIDOCKER_USERNS_COPY=1")
				os.RemoveAll(copied) // made anew by this run (and left as the cache it is: rmi removes it)
			}
			mdEnv := func(args ...string) result {
				cmd := exec.Command(md, args...)
				cmd.Env = env
				return runCmd(t, cmd)
			}
			name := "mdt-userns-" + way
			removeOnCleanup(t, md, name)
			t.Cleanup(func() { exec.Command(md, "volume", "rm", "-f", name).Run() })
			if r := mdEnv("run", "-d", "-i", "--name", name, "--network", "none", "--userns", "private",
				"-v", vol+":/vol", "-v", secret+":/secret:ro", "-v", name+":/named", "busybox", "sh", "-c", "echo ready; read x"); r.code != 0 {
				t.Fatalf("run: %s", r)
			}
			waitLog(t, md, name, "ready")
			initPid := int(jget(inspect(t, md, name), "State.Pid").(float64))
			kids := children(initPid)
			if len(kids) != 1 {
				t.Fatalf("children of init: %v", kids)
			}
			for _, pid := range []int{initPid, kids[0]} {
				if uid := hostUID(t, pid); uid != int(uids.Start) {
					t.Errorf("pid %d (%s) runs as host uid %d, want %d (>= 100000)", pid, comm(pid), uid, uids.Start)
				}
			}
			lower := rootLower(t, kids[0])
			switch {
			case way == "idmap" && idmapErr == nil:
				if !strings.Contains(lower, "/layers/0") || strings.Contains(lower, "/userns/") {
					t.Errorf("idmapped mounts were possible, but the root is stacked on %s", lower)
				}
			default:
				if !strings.Contains(lower, copied) {
					t.Errorf("want the chown copy %s in the root's layers: %s", copied, lower)
				}
				if uid := fileOwner(t, filepath.Join(copied, "bin", "busybox")); uid != uids.Start {
					t.Errorf("the chown copy's /bin/busybox belongs to %d, want %d", uid, uids.Start)
				}
			}
			r := mustRun(t, md, "exec", name, "sh", "-c", "id -u; cat /proc/self/uid_map; echo made > /vol/by-$(id -u); echo made > /named/file; cat /secret 2>&1; touch /bin/x && echo wrote-image-copy")
			for _, want := range []string{"0\n", fmt.Sprintf("%10d%11d%11d", 0, uids.Start, uids.Count), "Permission denied", "wrote-image-copy"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("exec: want %q in %q", want, r.stdout)
				}
			}
			if strings.Contains(r.stdout, "host root only") {
				t.Errorf("the container's root read a root-only host file: %q", r.stdout)
			}
			if uid := fileOwner(t, filepath.Join(vol, "by-0")); uid != uids.Start {
				t.Errorf("a file made by the container's root in a bind mount: owner %d on the host, want %d", uid, uids.Start)
			}
			named := filepath.Join(mdRoot(), "volumes", name, "_data")
			if uid := fileOwner(t, filepath.Join(named, "file")); uid != uids.Start {
				t.Errorf("a file made in a new named volume: owner %d, want %d", uid, uids.Start)
			}
			sec := jget(inspect(t, md, name), "Security").(map[string]any)
			if sec["UsernsMode"] != "private" || len(sec["UIDMap"].([]any)) != 1 || sec["UIDMap"].([]any)[0] != uids.Map() {
				t.Errorf("inspect's Security: %v", sec)
			}
			mustRun(t, md, "rm", "-f", name)
			os.Remove(filepath.Join(vol, "by-0"))
		})
	}
	// The same secret with --userns=host: root reads it (what the namespace took away).
	r := mustRun(t, md, "run", "--rm", "--network", "none", "-v", secret+":/secret:ro", "busybox", "cat", "/secret")
	if !strings.Contains(r.stdout, "host root only") {
		t.Errorf("--userns=host could not read the file either: the test shows nothing: %s", r)
	}
	if r := run(t, md, "run", "--rm", "--userns", "private", "--privileged", "busybox", "true"); r.code != 125 {
		t.Errorf("--userns=private --privileged: %s", r)
	} else {
		oneLine(t, r, "--userns=host")
	}
}

// TestSecurityUsernsRemap: a daemon with --userns-remap=default gives every
// container its own user namespace, unless it asks --userns=host; docker
// info lists it.
func TestSecurityUsernsRemap(t *testing.T) {
	tool(t, "docker")
	d := startDaemon(t, "--userns-remap", "default")
	if r := d.mustDocker("run", "--rm", "--network", "none", "busybox", "cat", "/proc/self/uid_map"); !strings.Contains(r.stdout, "100000") {
		t.Errorf("docker run under --userns-remap: uid_map %q", r.stdout)
	}
	if r := d.mustDocker("run", "--rm", "--network", "none", "--userns", "host", "busybox", "cat", "/proc/self/uid_map"); !strings.Contains(r.stdout, "4294967295") {
		t.Errorf("docker run --userns=host: uid_map %q", r.stdout)
	}
	if r := d.mustDocker("info"); !strings.Contains(r.stdout, "\n  userns\n") {
		t.Errorf("docker info: no userns in %s", r.stdout)
	}
}
