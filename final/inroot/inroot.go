//go:build linux

// Package inroot resolves paths inside a directory tree that strangers
// wrote (a layer being unpacked, a container's root filesystem) the way
// the kernel would if that directory were `/`: openat2(2) with
// RESOLVE_IN_ROOT. A symlink `etc -> /` or `x -> ../../..` in the tree
// then leads back into the tree, never out of it, and no /proc magic link
// (RESOLVE_NO_MAGICLINKS) is followed. No string checks: the kernel walks
// the path one component at a time and applies the rule at each symlink
// and each `..`, race-free against a concurrent rename (it answers EAGAIN,
// and we look again). Chapter: docs/07-final.md ("Untrusted tarballs").
package inroot

import (
	"errors"
	"fmt"
	"path"

	"golang.org/x/sys/unix"
)

// region openat2
// resolve is how every lookup below resolves a path: as if the root were
// `/` (symlinks and `..` included), and never through /proc/PID/fd-style
// magic links.
const resolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// Open is openat2(root, name, flags, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS):
// name is resolved inside the directory root (a file descriptor), and the
// file it opens is always inside it. O_CLOEXEC is added.
func Open(root int, name string, flags int) (int, error) {
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve}
	for try := 0; ; try++ {
		fd, err := unix.Openat2(root, Clean(name), how)
		switch {
		case err == nil:
			return fd, nil
		case (err == unix.EAGAIN || err == unix.EINTR) && try < 64:
			continue // a rename or mount raced the lookup: the kernel asks us to look again
		case err == unix.ENOSYS:
			return -1, errors.New("openat2(2) is missing: minidocker needs Linux 5.6 or later to resolve paths safely")
		}
		return -1, err
	}
}

// endregion openat2

// Clean is name as a path relative to the root: "/etc/../a/" is "a", "/" is ".".
func Clean(name string) string {
	c := path.Clean("/" + name)[1:]
	if c == "" {
		return "."
	}
	return c
}

// Split is Clean(name) as its parent directory and last component;
// the root itself has no last component ("." and "").
func Split(name string) (dir, base string) {
	c := Clean(name)
	if c == "." {
		return ".", ""
	}
	return path.Dir(c), path.Base(c)
}

// region mkdirall
// MkdirAll is `mkdir -p` inside the root, and returns the directory opened
// with O_PATH (a handle for *at calls and for mounting onto, not for
// reading). Missing components are made with mkdirat(2) in their parent,
// itself resolved inside the root, so a symlink in the tree can redirect a
// component only to another place inside the tree.
func MkdirAll(root int, name string, mode uint32) (int, error) {
	fd, err := Open(root, name, unix.O_PATH|unix.O_DIRECTORY)
	if err != unix.ENOENT {
		return fd, err
	}
	dir, base := Split(name)
	if base == "" {
		return -1, err // the root itself is gone
	}
	parent, err := MkdirAll(root, dir, mode)
	if err != nil {
		return -1, err
	}
	err = unix.Mkdirat(parent, base, mode)
	unix.Close(parent)
	if err != nil && err != unix.EEXIST {
		return -1, fmt.Errorf("mkdir %s: %v", Clean(name), err)
	}
	fd, err = Open(root, name, unix.O_PATH|unix.O_DIRECTORY)
	if err == unix.ENOENT { // it exists, yet does not lead anywhere
		return -1, fmt.Errorf("%s is a symlink to a path that does not exist inside the root", Clean(name))
	}
	return fd, err
}

// endregion mkdirall

// ProcPath is the /proc/self/fd path of fd: mount(2) onto it mounts onto
// exactly the inode the descriptor holds, with no second path lookup that
// a symlink swapped in meanwhile could redirect (runc does the same).
func ProcPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }
