package desired

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// DirSink delivers each new token as a file in a directory: Dir/<name>
// holds the secret and a newline, mode 0600. The file is written under a
// temporary name, synced and renamed into place, so that a reader sees the
// old secret or the new one, never part of one. Dir is made (mode 0700,
// parents too) when it is missing.
type DirSink struct {
	// Dir is the directory.
	Dir string
}

// Deliver writes tok's secret to Dir/<tok.TokenName>.
func (s DirSink) Deliver(ctx context.Context, tok unleashadmin.APIToken) error {
	if s.Dir == "" {
		return errors.New("desired: DirSink: no directory")
	}
	if err := checkName(tok.TokenName); err != nil {
		return fmt.Errorf("desired: DirSink: the token name cannot be a file name: %v", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("desired: DirSink: %w", context.Cause(ctx))
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("desired: DirSink: %w", err)
	}
	tmp, err := os.CreateTemp(s.Dir, "."+tok.TokenName+".*.tmp")
	if err != nil {
		return fmt.Errorf("desired: DirSink: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("desired: DirSink: %w", err)
	}
	if _, err := io.WriteString(tmp, tok.Secret+"\n"); err != nil {
		return fmt.Errorf("desired: DirSink: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("desired: DirSink: syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("desired: DirSink: %w", err)
	}
	dst := filepath.Join(s.Dir, tok.TokenName)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("desired: DirSink: %w", err)
	}
	done = true
	// Make the rename itself durable.
	if d, err := os.Open(s.Dir); err == nil {
		serr := d.Sync()
		_ = d.Close()
		if serr != nil && !errors.Is(serr, os.ErrInvalid) {
			return fmt.Errorf("desired: DirSink: syncing %s: %w", s.Dir, serr)
		}
	}
	return nil
}

// ExecSink delivers each new token to a command, run as `sh -c Command`
// with the secret on its standard input (no newline after it) and the
// token as the server answered it in its environment: UNLEASH_TOKEN_NAME,
// UNLEASH_TOKEN_TYPE, UNLEASH_TOKEN_ENVIRONMENT and UNLEASH_TOKEN_PROJECTS
// (the project IDs joined with commas, "*" for all). The rest of the
// environment is this process's, less UNLEASH_API_TOKEN: the admin key is
// not handed on. A non-zero exit is a failed delivery. The command is
// killed (with its process group, where there is one) when ctx ends.
//
// A command that writes to Vault, `kubectl create secret` or a cloud
// secret manager plugs in without this package knowing about them:
//
//	vault kv put "secret/unleash/$UNLEASH_TOKEN_NAME" token=-
type ExecSink struct {
	// Command is the shell command.
	Command string
	// Stdout and Stderr receive the command's output; nil discards it.
	// Nothing of it goes into an error.
	Stdout, Stderr io.Writer
}

// execWaitDelay bounds how long the command's output is waited for after
// it was killed, when something it started holds the pipes open.
const execWaitDelay = 5 * time.Second

// Deliver runs the command for tok.
func (s ExecSink) Deliver(ctx context.Context, tok unleashadmin.APIToken) error {
	if strings.TrimSpace(s.Command) == "" {
		return errors.New("desired: ExecSink: no command")
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", s.Command)
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "UNLEASH_API_TOKEN", "UNLEASH_TOKEN_NAME", "UNLEASH_TOKEN_TYPE", "UNLEASH_TOKEN_ENVIRONMENT", "UNLEASH_TOKEN_PROJECTS":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env,
		"UNLEASH_TOKEN_NAME="+tok.TokenName,
		"UNLEASH_TOKEN_TYPE="+string(tok.Type),
		"UNLEASH_TOKEN_ENVIRONMENT="+tok.Environment,
		"UNLEASH_TOKEN_PROJECTS="+strings.Join(tok.ProjectIDs(), ","),
	)
	cmd.Stdin = strings.NewReader(tok.Secret)
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	cmd.WaitDelay = execWaitDelay
	ownGroup(cmd)
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("desired: ExecSink: the command was stopped: %w", context.Cause(ctx))
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return fmt.Errorf("desired: ExecSink: the command failed: %s", exitErr.ProcessState)
	}
	return fmt.Errorf("desired: ExecSink: %w", err)
}
