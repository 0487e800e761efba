//go:build linux

package tests

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDaemonOutputIntegrity: a container writes 20 MiB of random bytes to
// stdout (binary, not UTF-8, no newlines to speak of) and 20 MiB of short
// lines to stderr, then the sha256 of what it wrote to stdout; `docker run`
// attached and `docker logs` deliver every byte on the right stream.
func TestDaemonOutputIntegrity(t *testing.T) {
	d := startDaemon(t)
	const size = 20 << 20
	line := []byte("0123456789abcdef\n")
	pattern := bytes.Repeat(line, size/len(line)+1)[:size]
	lines := sha256.Sum256(pattern)
	script := fmt.Sprintf("head -c %d /dev/urandom > /r; cat /r; yes 0123456789abcdef | head -c %d >&2; sha256sum /r | cut -c1-64 >&2", size, size)
	check := func(what string, cmd *exec.Cmd) {
		t.Helper()
		var stdout countingHash
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		errb := stderr.Bytes()
		if len(errb) != size+65 {
			t.Fatalf("%s: stderr has %d bytes, want %d", what, len(errb), size+65)
		}
		want := strings.TrimSpace(string(errb[size:]))
		got := stdout.sum()
		if fmt.Sprintf("%x", got[:]) != want || stdout.n != size || sha256.Sum256(errb[:size]) != lines {
			t.Errorf("%s: stdout %d bytes, sha256 %x (the container's: %s); stderr's lines intact: %v",
				what, stdout.n, got, want, sha256.Sum256(errb[:size]) == lines)
		}
	}
	check("docker run (attached)", d.dockerCmd("run", "--name", "dd-big", "--network", "none", "busybox", "sh", "-c", script))
	check("docker logs", d.dockerCmd("logs", "dd-big"))
	d.mustDocker("rm", "dd-big")
}

// countingHash is an io.Writer that hashes and counts what it gets.
type countingHash struct {
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	if c.h == nil {
		c.h = sha256.New()
	}
	c.n += int64(len(p))
	return c.h.Write(p)
}

func (c *countingHash) sum() [32]byte {
	var s [32]byte
	if c.h == nil {
		c.h = sha256.New()
	}
	copy(s[:], c.h.Sum(nil))
	return s
}

// TestDaemonLiveRestore: five containers started through the API outlive a
// kill -9 of the daemon (each has its monitor), keep writing their logs,
// and a new daemon lists them running, with complete logs; exec, stop and
// rm work through it.
func TestDaemonLiveRestore(t *testing.T) {
	d := startDaemon(t)
	var names []string
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("dd-live%d", i)
		names = append(names, name)
		// prints a line, then another each time it is woken (SIGUSR1)
		d.mustDocker("run", "-d", "--name", name, "--network", "none", "busybox", "sh", "-c",
			`n=0; trap 'n=$((n+1)); echo tick $n' USR1; echo ready; while :; do sleep 1 & wait; done`)
	}
	for _, n := range names {
		poll(t, 10*time.Second, n+" ready", func() bool { return strings.Contains(d.docker("logs", n).stdout, "ready") })
	}
	d.kill9()
	// The daemon is gone; the containers run on, and write to their logs.
	for _, n := range names {
		mustRun(t, d.bin, "kill", "-s", "USR1", n)
	}
	d.start()
	r := d.mustDocker("ps", "--filter", "name=dd-live", "--format", "{{.Names}} {{.State}}")
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	sort.Strings(got)
	if len(got) != 5 || !strings.HasSuffix(got[0], " running") || !strings.HasSuffix(got[4], " running") {
		t.Fatalf("after the daemon's restart: want 5 running, got %q", r.stdout)
	}
	for _, n := range names {
		poll(t, 10*time.Second, n+"'s tick", func() bool { return strings.Contains(d.docker("logs", n).stdout, "ready\ntick 1") })
	}
	if r := d.docker("exec", names[0], "sh", "-c", "echo alive; exit 9"); r.code != 9 || r.stdout != "alive\n" {
		t.Errorf("docker exec after the restart: %s", r)
	}
	d.mustDocker("stop", "-t", "1", names[1])
	if r := d.mustDocker("inspect", "--format", "{{.State.Status}}", names[1]); r.stdout != "exited\n" {
		t.Errorf("docker stop after the restart: %s", r)
	}
	d.mustDocker(append([]string{"rm", "-f"}, names...)...)
	if r := d.mustDocker("ps", "-a", "-q", "--filter", "name=dd-live"); r.stdout != "" {
		t.Errorf("docker rm -f after the restart left %q", r.stdout)
	}
}

// TestDaemonLoad: 50 parallel `docker run -d` give 50 running containers
// with 50 different addresses, and `docker ps` lists them all; 50 parallel
// `docker rm -f` leave nothing (the leak check: mounts, cgroups, veths,
// rules, state files).
func TestDaemonLoad(t *testing.T) {
	d := startDaemon(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := runCmd(t, d.dockerCmd("run", "-d", "--name", fmt.Sprintf("dd-load%02d", i), "busybox", "sleep", "1000"))
			if r.code != 0 {
				errs <- r.String()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("docker run -d: %s", e)
	}
	r := d.mustDocker("ps", "--filter", "name=dd-load", "--format", "{{.Names}}")
	if got := len(strings.Fields(r.stdout)); got != n {
		t.Errorf("docker ps: want %d containers, got %d", n, got)
	}
	ips := map[string]bool{}
	for i := 0; i < n; i++ {
		ip := strings.TrimSpace(d.mustDocker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", fmt.Sprintf("dd-load%02d", i)).stdout)
		ips[ip] = true
	}
	if len(ips) != n {
		t.Errorf("want %d different addresses, got %d", n, len(ips))
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if r := runCmd(t, d.dockerCmd("rm", "-f", fmt.Sprintf("dd-load%02d", i))); r.code != 0 {
				t.Errorf("docker rm -f: %s", r)
			}
		}(i)
	}
	wg.Wait()
	if r := d.mustDocker("ps", "-aq", "--filter", "name=dd-load"); r.stdout != "" {
		t.Errorf("left after rm -f: %q", r.stdout)
	}
}

// TestDaemonPermissions: the socket is 0660 root:minidocker; a user outside
// the group gets "permission denied", a member of it works; no one but
// root may talk to a container's console socket.
func TestDaemonPermissions(t *testing.T) {
	d := startDaemon(t)
	sock := strings.TrimPrefix(d.host, "unix://")
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	g, err := user.LookupGroup("minidocker")
	if err != nil {
		t.Fatalf("no group minidocker: `sudo make setup` makes it (%v)", err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	if fi.Mode().Perm() != 0660 || st.Uid != 0 || int(st.Gid) != gid {
		t.Errorf("socket: want 0660 root:minidocker, got %v %d:%d", fi.Mode().Perm(), st.Uid, st.Gid)
	}
	as := func(groups ...uint32) result {
		cmd := d.dockerCmd("ps")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
		return runCmd(t, cmd)
	}
	if r := as(); r.code == 0 || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("nobody outside the group: want permission denied, got %s", r)
	}
	if r := as(uint32(gid)); r.code != 0 || !strings.Contains(r.stdout, "CONTAINER ID") {
		t.Errorf("nobody in the group minidocker: want docker ps to work, got %s", r)
	}
	// A container's console socket: root only.
	id := strings.TrimSpace(d.mustDocker("run", "-d", "-i", "--name", "dd-console", "--network", "none", "busybox", "sh", "-c", "read l; echo got $l").stdout)
	probe := exec.Command(os.Args[0])
	probe.Env = append(os.Environ(), "MD_CONSOLE_PROBE="+id)
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	probe.Run()
	d.mustDocker("kill", "dd-console")
	if r := d.mustDocker("logs", "dd-console"); strings.Contains(r.stdout, "got") {
		t.Errorf("nobody wrote to a container's stdin through its console socket: %s", r)
	}
	d.mustDocker("rm", "-f", "dd-console")
}

// consoleProbe is what TestDaemonPermissions runs as nobody (the test
// binary again, see TestMain): it tries to write a line to a container's
// stdin through its console socket.
func consoleProbe(id string) {
	c, err := net.Dial("unix", "@minidocker/"+id)
	if err != nil {
		return
	}
	frame := append([]byte{0, 0, 0, 0, 0, 0, 0, 6}, "hello\n"...)
	c.Write(frame)
	c.Close()
}

// TestDaemonTLS: TCP only with mutual TLS: without --tlsverify the daemon
// refuses to start (one line); with it, the docker CLI with a client
// certificate the CA signed works, and without one it is turned away.
func TestDaemonTLS(t *testing.T) {
	md := minidockerTest(t)
	dir := t.TempDir()
	certs := makeCerts(t, dir)
	port := freePort(t)
	host := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	r := run(t, md, "daemon", "-H", host)
	if r.code == 0 || !strings.Contains(r.stderr, "without mutual TLS") {
		t.Errorf("daemon on TCP without TLS: want a one-line refusal, got %s", r)
	}
	oneLine(t, r, "--tlsverify")
	d := &daemon{t: t, bin: md, host: host, home: dir, args: []string{"--tlsverify", "--tlscacert", certs["ca"], "--tlscert", certs["server"], "--tlskey", certs["server-key"]}}
	d.log = &bytes.Buffer{}
	d.cmd = exec.Command(md, append([]string{"daemon", "-H", host}, d.args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.stop)
	poll(t, 15*time.Second, "the TLS port", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	tlsArgs := []string{"--tlsverify", "--tlscacert", certs["ca"], "--tlscert", certs["client"], "--tlskey", certs["client-key"], "-H", host}
	if r := d.docker(append(tlsArgs, "version", "--format", "{{.Server.Version}}")...); r.code != 0 || strings.TrimSpace(r.stdout) == "" {
		t.Errorf("docker with a client certificate: %s", r)
	}
	if r := d.docker("--tlsverify", "--tlscacert", certs["ca"], "-H", host, "version"); r.code == 0 {
		t.Errorf("docker without a client certificate should be refused: %s", r)
	}
	if r := mustRun(t, md, append([]string{"--tlsverify", "--tlscacert", certs["ca"], "--tlscert", certs["client"], "--tlskey", certs["client-key"], "-H", host}, "ps")...); !strings.Contains(r.stdout, "CONTAINER ID") {
		t.Errorf("minidocker -H tcp:// with TLS: %s", r)
	}
}

// freePort is a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// makeCerts writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA, as PEM files in dir.
func makeCerts(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	write := func(name, kind string, der []byte) {
		p := filepath.Join(dir, name+".pem")
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0600)
		files[name] = p
	}
	key := func(name string) *ecdsa.PrivateKey {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalECPrivateKey(k)
		write(name, "EC PRIVATE KEY", der)
		return k
	}
	caKey := key("ca-key")
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "minidocker test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write("ca", "CERTIFICATE", caDER)
	caCert, _ := x509.ParseCertificate(caDER)
	for i, name := range []string{"server", "client"} {
		k := key(name + "-key")
		c := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{map[string]x509.ExtKeyUsage{"server": x509.ExtKeyUsageServerAuth, "client": x509.ExtKeyUsageClientAuth}[name]},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, c, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		write(name, "CERTIFICATE", der)
	}
	return files
}

// TestDaemonBadRequests: what a broken or hostile client sends never takes
// the daemon down or leaves state: malformed and huge JSON, a name in use,
// unknown images and containers, bad limits and filters, a client that
// goes away in the middle of an attach, 50 clients at once. Each gets
// Docker's status and a JSON message.
func TestDaemonBadRequests(t *testing.T) {
	d := startDaemon(t)
	sock := strings.TrimPrefix(d.host, "unix://")
	do := func(method, path, body string) (int, string) {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req, _ := http.NewRequest(method, "http://docker/v1.44"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Write(c)
		resp, err := http.ReadResponse(newReader(c), req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: an error must be application/json, got %q", method, path, resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode, string(b)
	}
	d.mustDocker("create", "--name", "dd-taken", "--network", "none", "busybox", "true")
	huge := `{"Image":"busybox","Env":["` + strings.Repeat("x", 5<<20) + `"]}`
	for _, c := range []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/containers/create", `{"Image": "busybox", `, 400, "invalid JSON"},
		{"POST", "/containers/create", huge, 400, "too large"},
		{"POST", "/containers/create", `{"Image": 7}`, 400, "invalid JSON"},
		{"POST", "/containers/create?name=dd-taken", `{"Image": "busybox"}`, 409, "already in use"},
		{"POST", "/containers/create", `{"Image": "no-such-image"}`, 404, "No such image: no-such-image:latest"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"Memory": 1000}}`, 400, "memory"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"VolumesFrom": ["other"]}}`, 501, "--volumes-from"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"CapAdd": ["FLY"]}}`, 400, "FLY"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"SecurityOpt": ["seccomp=/no/such/profile.json"]}}`, 400, "/no/such/profile.json"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"UsernsMode": "sometimes"}}`, 400, "invalid --userns"},
		{"POST", "/containers/create", `{"Image": "busybox", "User": "a:b:c"}`, 400, "invalid --user"},
		{"POST", "/containers/create?name=bad/name", `{"Image": "busybox"}`, 400, "Invalid container name"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"Binds": ["/nonexistent-host-dir:/x"]}}`, 400, "does not exist"},
		{"GET", "/containers/json?filters={bad", "", 400, "invalid filters"},
		{"GET", "/containers/json?filters={\"colour\":[\"red\"]}", "", 400, "invalid filter 'colour'"},
		{"GET", "/containers/no-such/json", "", 404, "No such container: no-such"},
		{"POST", "/containers/dd-taken/wait?condition=whenever", "", 400, "invalid condition"},
		{"POST", "/containers/dd-taken/kill", "", 409, "is not running"},
		{"POST", "/containers/dd-taken/pause", "", 409, "is not running"},
		{"POST", "/containers/dd-taken/unpause", "", 409, "is not paused"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"AutoRemove": true, "RestartPolicy": {"Name": "always"}}}`, 400, "can't create 'AutoRemove' container with restart policy"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}}`, 400, "unknown policy 'sometimes'"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"BlkioDeviceWriteBps": [{"Path": "/dev/../etc/shadow", "Rate": 1}]}}`, 400, "bad device path"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"BlkioDeviceReadIOps": [{"Path": "/dev/null", "Rate": 1}]}}`, 400, "not a block device"},
		{"POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"BlkioWeight": 2000}}`, 400, "Range of blkio weight"},
		{"DELETE", "/images/no-such-image", "", 404, "No such image"},
		{"GET", "/no/such/route", "", 404, "page not found"},
		{"POST", "/containers/create", `{"Image":"busybox","Unknown":{"Fields":[1,2]},"Cmd":"true"}`, 201, `"Id"`},
	} {
		code, body := do(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.msg) {
			t.Errorf("%s %s: want %d with %q, got %d %s", c.method, c.path, c.code, c.msg, code, trimTo(body, 200))
		}
	}
	// A client that goes away mid-attach: the daemon carries on.
	id := strings.TrimSpace(d.mustDocker("run", "-d", "--name", "dd-chatty", "--network", "none", "busybox", "sh", "-c", "while :; do echo x; done").stdout)
	c, _ := net.Dial("unix", sock)
	fmt.Fprintf(c, "POST /v1.44/containers/%s/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", id)
	io.ReadFull(c, make([]byte, 4096))
	c.Close()
	// 50 clients at once.
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := do("GET", "/containers/json?all=1", ""); code != 200 {
				t.Errorf("GET /containers/json under load: %d %s", code, trimTo(body, 200))
			}
		}()
	}
	wg.Wait()
	d.mustDocker("rm", "-f", "dd-chatty", "dd-taken")
	if r := d.mustDocker("ps", "-aq"); r.stdout != "" {
		for _, id := range strings.Fields(r.stdout) {
			d.docker("rm", "-f", id) // the unnamed container of the unknown-fields case
		}
	}
	if code, _ := do("GET", "/_ping", ""); code != 200 {
		t.Errorf("the daemon no longer answers /_ping")
	}
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
