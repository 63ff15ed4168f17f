// Package testserver starts private PostgreSQL and Redis servers on free
// loopback ports for tests that stop and restart them (outage tests), so
// that the shared servers of internal/testenv are never disturbed. It is
// test support only.
//
// The servers come from the machine's packages (postgresql: initdb and
// pg_ctl under /usr/lib/postgresql/*/bin; redis-server). When they are not
// installed the test is skipped, or failed under CI=true. Running as root,
// PostgreSQL is run as the postgres user (initdb refuses root).
package testserver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wxkit/wxkit/internal/testenv"
)

// Postgres is a private PostgreSQL cluster.
type Postgres struct {
	// URL connects as postgres to database postgres, without a password.
	URL string
	bin string
	dir string
	run func(name string, args ...string) *exec.Cmd
}

// Redis is a private Redis server without persistence.
type Redis struct {
	// URL is redis://127.0.0.1:PORT/0.
	URL  string
	Addr string
	port int
	cmd  *exec.Cmd
	t    testing.TB
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("testserver: %s: %v", what, err)
	if testenv.CI() {
		t.Fatal(msg + "; CI=true requires it")
	}
	t.Skip(msg + "; install it to run this test")
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartPostgres initialises and starts a cluster (fsync off) on a free
// port; it is stopped and removed when t ends.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		unavailable(t, "PostgreSQL server binaries", os.ErrNotExist)
	}
	p := &Postgres{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "wxkit-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	p.run = exec.Command
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable(t, "user postgres (initdb refuses to run as root)", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.run = func(name string, args ...string) *exec.Cmd {
			c := exec.Command(name, args...)
			c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
			return c
		}
	}
	if out, err := p.run(filepath.Join(p.bin, "initdb"), "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres",
		"--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		t.Fatalf("testserver: initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = off\nfull_page_writes = off\n", port, dir)
	f, err := os.OpenFile(filepath.Join(dir, "data", "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	p.Start(t)
	t.Cleanup(func() { p.ctl("stop", "-m", "immediate") })
	return p
}

func (p *Postgres) ctl(args ...string) ([]byte, error) {
	full := append([]string{"-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "log"), "-w"}, args...)
	return p.run(filepath.Join(p.bin, "pg_ctl"), full...).CombinedOutput()
}

// Start starts the (stopped) cluster and waits until it accepts
// connections.
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	if out, err := p.ctl("start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		t.Fatalf("testserver: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the cluster at once (connections are cut, as in a crash).
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	if out, err := p.ctl("stop", "-m", "immediate"); err != nil {
		t.Fatalf("testserver: pg_ctl stop: %v\n%s", err, out)
	}
}

// StartRedis starts redis-server on a free port, without persistence; it
// is stopped when t ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		unavailable(t, "redis-server", err)
	}
	r := &Redis{port: freePort(t), t: t}
	r.Addr = fmt.Sprintf("127.0.0.1:%d", r.port)
	r.URL = "redis://" + r.Addr + "/0"
	r.Start(t)
	t.Cleanup(func() {
		if r.cmd != nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	return r
}

// Start starts the (stopped) server and waits until it answers.
func (r *Redis) Start(t testing.TB) {
	t.Helper()
	var out bytes.Buffer
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", os.TempDir())
	r.cmd.Stdout, r.cmd.Stderr = &out, &out
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("testserver: redis-server: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", r.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("testserver: redis-server did not come up: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (connections are cut, as in a crash).
func (r *Redis) Stop(t testing.TB) {
	t.Helper()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}
