package stack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// stopTimeout is how long a process gets to exit after SIGTERM before it is
// sent SIGKILL.
const stopTimeout = 10 * time.Second

// process is one child process, stopped only through its own PID.
type process struct {
	name    string
	logPath string
	binary  string
	args    []string
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited and was reaped
	err     error         // exit status, valid after done
}

// startProcess starts binary with args, stdout and stderr appended to logPath.
func startProcess(name, logPath, binary string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", name, err)
	}
	fmt.Fprintf(logFile, "### %s %s %q\n", time.Now().Format(time.RFC3339Nano), binary, args)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a Ctrl-C in the terminal reaches only the
		// parent, which then stops the children in the right order.
		Setpgid: true,
		// If the parent dies without cleaning up, the kernel kills the child.
		Pdeathsig: syscall.SIGKILL,
	}
	err = spawn(cmd)
	logFile.Close() // the child holds its own copy
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, binary: binary, args: args, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// respawn starts the same binary again with the same arguments and log, for
// a process that has exited (see Stack.RestartAPIServer).
func (p *process) respawn() (*process, error) {
	return startProcess(p.name, p.logPath, p.binary, p.args...)
}

// PID of the process.
func (p *process) PID() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopTimeout, then sends SIGKILL to the same
// PID. The PID cannot have been reused meanwhile: only the Wait goroutine
// reaps it, and no signal is sent after that.
func (p *process) stop() error {
	if p == nil || p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, p.PID(), err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	return p.kill()
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *process) kill() error {
	if p == nil || p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, p.PID(), err)
	}
	<-p.done
	return nil
}

// Pdeathsig fires when the *thread* that forked the child exits, and the Go
// runtime may retire threads. So every child is forked from one goroutine
// locked to its thread for the life of the test binary.
var (
	spawnOnce     sync.Once
	spawnRequests chan spawnRequest
)

type spawnRequest struct {
	cmd    *exec.Cmd
	result chan error
}

func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnRequests = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for req := range spawnRequests {
				req.result <- req.cmd.Start()
			}
		}()
	})
	result := make(chan error, 1)
	spawnRequests <- spawnRequest{cmd: cmd, result: result}
	return <-result
}
