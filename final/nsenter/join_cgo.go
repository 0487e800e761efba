//go:build linux && cgo

package nsenter

// region join

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

// minidocker-runc's way into a mount namespace that config.json names by
// path. create clones this program into the container's other namespaces
// with the namespace and minidocker-runc's own binary open as descriptors
// (_MINIDOCKER_NSENTER_JOIN="NSFD EXEFD"). Single-threaded, before the Go
// runtime, we may setns(2) into it; then we become `minidocker-runc init
// oci` through the descriptor (fexecve), so the binary need not be
// visible from the namespace we joined. glibc hands constructors the
// program's arguments: ours are "minidocker-nsenter" and the init's.
__attribute__((constructor)) static void minidocker_join(int argc, char **argv) {
	const char *fds = getenv("_MINIDOCKER_NSENTER_JOIN");
	if (fds == NULL || *fds == '\0' || argc < 2)
		return; // exec's helper, or any other run: nothing to do here
	int nsfd, exefd;
	if (sscanf(fds, "%d %d", &nsfd, &exefd) != 2) {
		fprintf(stderr, "minidocker-runc: bad _MINIDOCKER_NSENTER_JOIN %s\n", fds);
		_exit(1);
	}
	unsetenv("_MINIDOCKER_NSENTER_JOIN");
	if (setns(nsfd, CLONE_NEWNS) < 0) {
		fprintf(stderr, "minidocker-runc: setns into the mount namespace config.json names: %s\n", strerror(errno));
		_exit(1);
	}
	close(nsfd);
	fcntl(exefd, F_SETFD, FD_CLOEXEC); // closed once the init runs
	fexecve(exefd, argv + 1, environ);
	fprintf(stderr, "minidocker-runc: exec of the init: %s\n", strerror(errno));
	_exit(1);
}
*/
import "C"

// endregion join
