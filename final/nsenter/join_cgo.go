//go:build linux && cgo

package nsenter

// region join

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what) {
	fprintf(stderr, "minidocker-runc: %s: %s\n", what, strerror(errno));
	_exit(1);
}

// minidocker-runc's way into a mount or user namespace that config.json
// names by path. create clones this program, with the namespaces and
// minidocker-runc's own binary open as descriptors:
// _MINIDOCKER_NSENTER_JOIN="USERFD MNTFD EXEFD UNSHARE PIDFD" (-1: none).
// Single-threaded, before the Go runtime, we may setns(2) into them. After
// a user namespace, the new namespaces are made here (UNSHARE: clone
// flags), so that they belong to it, as runc's nsexec does; a new PID
// namespace takes a fork, whose PID goes back on PIDFD. Then we become
// `minidocker-runc init oci` through the binary's descriptor (fexecve): it
// need not be visible from the namespaces we joined. glibc hands
// constructors the program's arguments: "minidocker-nsenter", then the
// init's.
__attribute__((constructor)) static void minidocker_join(int argc, char **argv) {
	const char *spec = getenv("_MINIDOCKER_NSENTER_JOIN");
	if (spec == NULL || *spec == '\0' || argc < 2)
		return; // exec's helper, or any other run: nothing to do here
	int userfd, mntfd, exefd, pidfd;
	unsigned long flags;
	if (sscanf(spec, "%d %d %d %lu %d", &userfd, &mntfd, &exefd, &flags, &pidfd) != 5) {
		fprintf(stderr, "minidocker-runc: bad _MINIDOCKER_NSENTER_JOIN %s\n", spec);
		_exit(1);
	}
	unsetenv("_MINIDOCKER_NSENTER_JOIN");
	if (userfd >= 0) {
		if (setns(userfd, CLONE_NEWUSER) < 0)
			die("setns into the user namespace config.json names");
		close(userfd);
		// Its root, so that execve keeps the capabilities there.
		setgroups(0, NULL); // refused where the namespace denies it: the groups stay
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			die("the user namespace config.json names maps no uid or gid 0");
	}
	if (mntfd >= 0) {
		if (setns(mntfd, CLONE_NEWNS) < 0)
			die("setns into the mount namespace config.json names");
		close(mntfd);
	}
	if ((flags & ~CLONE_NEWPID) != 0 && unshare(flags & ~CLONE_NEWPID) < 0)
		die("unshare the container's namespaces");
	if (flags & CLONE_NEWPID) {
		if (unshare(CLONE_NEWPID) < 0)
			die("unshare the PID namespace");
		pid_t child = fork();
		if (child < 0)
			die("fork the init");
		if (child > 0) {
			dprintf(pidfd, "%d\n", child);
			_exit(0);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	fcntl(exefd, F_SETFD, FD_CLOEXEC); // closed once the init runs
	fexecve(exefd, argv + 1, environ);
	die("exec of the init");
}
*/
import "C"

// endregion join
