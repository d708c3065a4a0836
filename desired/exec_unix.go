//go:build unix

package desired

import (
	"os/exec"
	"syscall"
)

// ownGroup runs cmd in a process group of its own and makes the end of its
// context kill the whole group, so that what the shell started ends too.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
