//go:build linux && cgo

package nsenter

// region nsenter

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;

static void forward(int sig) { if (child > 0) kill(child, sig); }

// Runs before the Go runtime: the process has one thread, so setns(2) into
// a mount namespace is allowed (the kernel refuses it to a process whose
// filesystem information is shared with other threads, and Go starts
// threads before main). runc's nsexec does the same.
__attribute__((constructor)) static void minidocker_nsenter(void) {
	const char *pid = getenv("_MINIDOCKER_NSENTER_PID");
	if (pid == NULL || *pid == '\0')
		return; // every other run of minidocker: nothing to do
	unsetenv("_MINIDOCKER_NSENTER_PID");
	// Not dumpable, first: from the moment we are in the container's PID
	// namespace until execve makes us the command, no process there may
	// open our /proc/PID/exe (the host's binary: runc's CVE-2019-5736) or
	// ptrace us. execve of the command makes it dumpable again.
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	// Wait until the CLI has put us in the container's cgroup (fd 4 closes).
	char b;
	while (read(4, &b, 1) < 0 && errno == EINTR) {}
	close(4);
	// Open all first: after entering the mount namespace, /proc/PID is
	// the container's /proc, where PID means something else. The user
	// namespace comes first, when the container has one of its own
	// (--userns=private, rootless): it owns the others, and inside it we
	// have the capabilities that entering them needs.
	const char *names[] = {"user", "ipc", "uts", "net", "pid", "mnt"};
	int fds[6], first = 1;
	char userns[64];
	struct stat theirs, ours;
	snprintf(userns, sizeof userns, "/proc/%s/ns/user", pid);
	if (stat(userns, &theirs) == 0 && stat("/proc/self/ns/user", &ours) == 0 &&
	    (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev))
		first = 0;
	for (int i = first; i < 6; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, names[i]);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			fprintf(stderr, "minidocker: exec: open %s: %s\n", path, strerror(errno));
			_exit(125);
		}
	}
	for (int i = first; i < 6; i++) {
		if (setns(fds[i], 0) < 0) {
			fprintf(stderr, "minidocker: exec: setns %s: %s\n", names[i], strerror(errno));
			_exit(125);
		}
		close(fds[i]);
	}
	// setns(CLONE_NEWPID) moves only our future children into the PID
	// namespace (and forbids us new threads there), so fork: the child runs
	// Go and becomes the command; we stay outside as its relay.
	child = fork();
	if (child < 0) {
		fprintf(stderr, "minidocker: exec: fork: %s\n", strerror(errno));
		_exit(125);
	}
	if (child == 0)
		return; // on to the Go runtime and Helper, inside
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], forward);
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			_exit(125);
	_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}
*/
import "C"

// endregion nsenter

// Constructor: this binary has the C constructor (built with cgo).
const Constructor = true
