// Package e2e runs the plinth binary as real processes: on embedded
// defaults, and as single targets against the PostgreSQL and NATS servers
// of the machine, driven from this test process through the clients.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the plinth executable built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plinth-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "plinth")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/plinth")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build plinth:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running plinth process with its JSON log lines collected.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	raw  strings.Builder
	done chan error
}

// startPlinth runs plinth with args; the process is killed when the test
// ends if it is still running.
func startPlinth(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--log.format=json")...)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.raw.WriteString(sc.Text() + "\n")
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				p.logs = append(p.logs, line)
			}
			p.mu.Unlock()
		}
	}()
	go func() { <-read; p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("plinth %v log:\n%s", args, p.log())
		}
	})
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// field returns the first value of key in a log line whose msg is msg.
func (p *proc) field(msg, key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		if l["msg"] == msg {
			if v, ok := l[key].(string); ok {
				return v
			}
		}
	}
	return ""
}

// waitField polls the log for msg's key until timeout.
func (p *proc) waitField(t *testing.T, msg, key string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if v := p.field(msg, key); v != "" {
			return v
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("plinth exited (%v) before logging %q", err, msg)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("plinth did not log %q with %q within %s", msg, key, timeout)
	return ""
}

// waitReady polls /readyz until 200 and returns how long it took.
func waitReady(t *testing.T, base string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s/readyz not 200 within %s", base, timeout)
}

// stop sends SIGTERM and returns how long the exit took and its error.
func (p *proc) stop(t *testing.T, timeout time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		return time.Since(start), err
	case <-time.After(timeout):
		t.Fatalf("plinth did not exit within %s of SIGTERM", timeout)
		return 0, nil
	}
}

// cleanEnv drops PLINTH_* variables of the developer's shell (the process
// under test gets its configuration from flags only) and keeps the rest.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PLINTH_") {
			env = append(env, kv)
		}
	}
	return env
}

func TestServeEmbeddedReadyMetricsAndStop(t *testing.T) {
	start := time.Now()
	p := startPlinth(t, "serve", "--data.dir", t.TempDir(), "--server.http-addr=127.0.0.1:0", "--server.grpc-addr=127.0.0.1:0")
	base := "http://" + p.waitField(t, "listening", "http_addr", 30*time.Second)
	waitReady(t, base, 30*time.Second)
	t.Logf("ready after %s (target: 3 s on an empty data directory)", time.Since(start).Round(time.Millisecond))

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "plinth_build_info") {
		t.Errorf("/metrics lacks plinth_build_info")
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		check := exec.Command(promtool, "check", "metrics")
		check.Stdin = strings.NewReader(string(metrics))
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool not installed (apt-get install prometheus): /metrics lint skipped")
	}

	took, err := p.stop(t, 15*time.Second)
	if err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	t.Logf("exited %s after SIGTERM (target: 5 s)", took.Round(time.Millisecond))
}

func TestFailingStoreStopsProcessNamingModule(t *testing.T) {
	p := startPlinth(t, "serve", "--target=registry", "--data.dir", t.TempDir(),
		"--server.http-addr=127.0.0.1:0", "--server.grpc-addr=127.0.0.1:0",
		"--db.url=postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	select {
	case err := <-p.done:
		if err == nil {
			t.Fatal("plinth exited 0 with an unreachable database")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("plinth kept running with an unreachable database")
	}
	if log := p.log(); !strings.Contains(log, "module db") {
		t.Errorf("log does not name the failing module db:\n%s", log)
	}
}

func TestConfigVerifyReportsEveryProblem(t *testing.T) {
	out, err := exec.Command(binary, "serve", "--config.verify", "--server.http-addr=nope", "--log.level=loud").CombinedOutput()
	if err == nil {
		t.Fatalf("config.verify accepted a bad config:\n%s", out)
	}
	for _, want := range []string{"server.http-addr", "log.level"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not name %s:\n%s", want, out)
		}
	}
	ok, err := exec.Command(binary, "serve", "--config.verify").CombinedOutput()
	if err != nil || !strings.Contains(string(ok), "configuration OK") {
		t.Errorf("default config: %v\n%s", err, ok)
	}
}
