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
	"sync"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// SinkReader is a sink that can say which secret it holds: the record of
// what was delivered. With one (Options.Reader, or an ApplyOptions.Sink
// that implements it), a plan keeps the token whose secret the sink holds
// rather than merely the newest, and Apply reads every delivery back
// before it counts as done. DirSink implements it, and ExecSink does when
// it has a ReadCommand.
//
// A SinkReader that also has a method Readable() bool is used only when
// that method returns true.
type SinkReader interface {
	// Held returns the secret the sink holds for tok: a token of an
	// entry's name and scope (TokenName, Type, Environment, Projects) as
	// it would be delivered, without its secret. ok is false when it
	// holds none. An error means it cannot tell: the plan fails, and
	// nothing is changed.
	Held(ctx context.Context, tok unleashadmin.APIToken) (secret string, ok bool, err error)
}

// SinkLocker is a sink that only one apply at a time may use. Apply takes
// its lock before it reads the server and the sink, and lets it go when
// it returns. DirSink implements it.
type SinkLocker interface {
	// Lock waits for the sink's lock within ctx and returns the function
	// that lets it go. An error matches ErrLocked when another holder kept
	// it until ctx ended.
	Lock(ctx context.Context) (unlock func(), err error)
}

// ErrLocked is matched by the error of an Apply that gave up waiting for
// its sink's lock (SinkLocker) because its context ended: another apply
// holds it. Nothing was changed.
var ErrLocked = errors.New("another apply holds the sink's lock")

// readerOf returns r when it can be read, nil otherwise.
func readerOf(r SinkReader) SinkReader {
	if r == nil {
		return nil
	}
	if c, ok := r.(interface{ Readable() bool }); ok && !c.Readable() {
		return nil
	}
	return r
}

// maxHeld bounds what a sink may hold for one token: no Unleash secret
// comes near it.
const maxHeld = 4096

// checkSecret refuses a secret that no sink should be given: one that
// Unleash could not have made (unleashadmin.UsableSecret: a line break
// would split it in two), or one longer than maxHeld.
func checkSecret(sink, secret string) error {
	if !unleashadmin.UsableSecret(secret) {
		return fmt.Errorf("desired: %s: %w: the secret is empty or holds white space or a control character, which no Unleash secret has; it is delivered nowhere",
			sink, unleashadmin.ErrUnexpectedResponse)
	}
	if len(secret) > maxHeld {
		return fmt.Errorf("desired: %s: %w: the secret is longer than %d bytes, which no Unleash secret is", sink, unleashadmin.ErrUnexpectedResponse, maxHeld)
	}
	return nil
}

// DirSink delivers each new token as a file in a directory: Dir/<name>
// holds the secret and a newline, mode 0600. The file is written under a
// short temporary name (so that any name Unleash accepts, up to 255 bytes,
// can be delivered), synced and renamed into place, so that a reader sees
// the old secret or the new one, never part of one. Dir is made (mode
// 0700, parents too) when it is missing.
//
// It is a SinkReader (Dir/<name> is what it holds) and a SinkLocker (the
// lock file Dir/.unleash-tokens.lock, held with flock where there is one).
// The names of its own files, which start with ".unleash-tokens", are not
// delivered to.
type DirSink struct {
	// Dir is the directory.
	Dir string
}

// The names of DirSink's own files in Dir.
const (
	dirOwnPrefix = ".unleash-tokens"
	dirLockName  = dirOwnPrefix + ".lock"
	dirTempName  = dirOwnPrefix + "-*.tmp"
)

// path returns Dir/<name> for a name that can be a file name of its own.
func (s DirSink) path(name string) (string, error) {
	if s.Dir == "" {
		return "", errors.New("desired: DirSink: no directory")
	}
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("desired: DirSink: the token name cannot be a file name: %v", err)
	}
	if strings.HasPrefix(name, dirOwnPrefix) {
		return "", fmt.Errorf("desired: DirSink: the token name %q starts with %q, which the sink keeps for its own files", name, dirOwnPrefix)
	}
	return filepath.Join(s.Dir, name), nil
}

// Deliver writes tok's secret to Dir/<tok.TokenName>.
func (s DirSink) Deliver(ctx context.Context, tok unleashadmin.APIToken) error {
	dst, err := s.path(tok.TokenName)
	if err != nil {
		return err
	}
	if err := checkSecret("DirSink", tok.Secret); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("desired: DirSink: %w", context.Cause(ctx))
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("desired: DirSink: %w", err)
	}
	tmp, err := os.CreateTemp(s.Dir, dirTempName)
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

// Held returns what Dir/<tok.TokenName> holds, less its final newline; ok
// is false when there is no such file (or no Dir yet), or it is empty. A
// file larger than any secret, or one that cannot be read, is an error.
func (s DirSink) Held(ctx context.Context, tok unleashadmin.APIToken) (string, bool, error) {
	path, err := s.path(tok.TokenName)
	if err != nil {
		return "", false, err
	}
	if err := ctx.Err(); err != nil {
		return "", false, fmt.Errorf("desired: DirSink: %w", context.Cause(ctx))
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("desired: DirSink: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxHeld+3))
	if err != nil {
		return "", false, fmt.Errorf("desired: DirSink: reading %s: %w", path, err)
	}
	if len(b) > maxHeld+2 {
		return "", false, fmt.Errorf("desired: DirSink: %s is larger than any secret (%d bytes)", path, maxHeld)
	}
	secret := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	return secret, secret != "", nil
}

// lockPoll is how often Lock tries again while another holds the lock.
const lockPoll = 20 * time.Millisecond

// Lock takes the exclusive lock of Dir (Dir/.unleash-tokens.lock, made
// when missing, and Dir with it), waiting for another holder within ctx.
// The lock file is never deleted. Where flock is not available, Lock takes
// no lock.
func (s DirSink) Lock(ctx context.Context) (func(), error) {
	if s.Dir == "" {
		return nil, errors.New("desired: DirSink: no directory")
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("desired: DirSink: %w", err)
	}
	path := filepath.Join(s.Dir, dirLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("desired: DirSink: %w", err)
	}
	t := time.NewTicker(lockPoll)
	defer t.Stop()
	for {
		held, err := tryLock(f)
		switch {
		case err != nil:
			_ = f.Close()
			return nil, fmt.Errorf("desired: DirSink: locking %s: %w", path, err)
		case held:
			return func() { unlock(f); _ = f.Close() }, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("desired: DirSink: %w (%s): gave up waiting for it: %w", ErrLocked, path, context.Cause(ctx))
		}
	}
}

// ExecSink delivers each new token to a command, run as `sh -c Command`
// with the secret on its standard input (no newline after it) and the
// token in its environment: UNLEASH_TOKEN_NAME, UNLEASH_TOKEN_TYPE,
// UNLEASH_TOKEN_ENVIRONMENT and UNLEASH_TOKEN_PROJECTS (the project IDs
// joined with commas, "*" for all). Apply hands it the name and scope of
// the entry, never those of the server's answer. The rest of the
// environment is this process's, less UNLEASH_API_TOKEN: the admin key is
// not handed on.
//
// A delivery has failed when the command exits non-zero, or exits without
// having read the whole secret from its standard input (a command that
// ignores it, such as a `vault kv put` without `token=-`, or one that
// reads part of it). The command is killed (with its process group, where
// there is one) when ctx ends.
//
// With a ReadCommand it is a SinkReader: `sh -c ReadCommand`, with the
// same environment, prints the secret it holds for UNLEASH_TOKEN_NAME on
// its standard output (white space around it is ignored), or nothing when
// it holds none; a non-zero exit is an error. Apply then reads each
// delivery back, and plans keep the token whose secret it holds.
//
// A command that writes to Vault, `kubectl create secret` or a cloud
// secret manager plugs in without this package knowing about them:
//
//	Command:     vault kv put "secret/unleash/$UNLEASH_TOKEN_NAME" token=-
//	ReadCommand: vault kv get -field=token "secret/unleash/$UNLEASH_TOKEN_NAME" 2>/dev/null || true
type ExecSink struct {
	// Command is the shell command that delivers.
	Command string
	// ReadCommand is the shell command that says which secret the sink
	// holds; empty when it cannot be read.
	ReadCommand string
	// Stdout and Stderr receive the commands' output (the read command's
	// standard error only), once each command has ended, with every echo
	// of the secret taken out (unleashadmin.RedactText); nil discards it.
	// Nothing of it goes into an error.
	Stdout, Stderr io.Writer
	// Env, when not nil, is the environment the commands start from
	// instead of this process's (UNLEASH_API_TOKEN is left out of it all
	// the same, and the UNLEASH_TOKEN_ variables set): for an instance of
	// a fleet, File.SinkEnv, which holds no key of the fleet.
	Env []string
}

// execWaitDelay bounds how long the command's output is waited for after
// it was killed, when something it started holds the pipes open.
const execWaitDelay = 5 * time.Second

// maxOutput bounds how much of a command's output is kept to be shown.
const maxOutput = 64 << 10

// Readable reports whether the sink can be read: it has a ReadCommand.
func (s ExecSink) Readable() bool { return strings.TrimSpace(s.ReadCommand) != "" }

// command returns `sh -c line` with tok's name and scope in its
// environment, its output kept in stdout and stderr.
func (s ExecSink) command(ctx context.Context, line string, tok unleashadmin.APIToken, stdout, stderr io.Writer) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	base := s.Env
	if base == nil {
		base = os.Environ()
	}
	env := make([]string, 0, len(base)+4)
	for _, kv := range base {
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
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = execWaitDelay
	ownGroup(cmd)
	return cmd
}

// failed says why a command that ran failed.
func (s ExecSink) failed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("desired: ExecSink: the %s was stopped: %w", what, context.Cause(ctx))
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return fmt.Errorf("desired: ExecSink: the %s failed: %s", what, exitErr.ProcessState)
	}
	return fmt.Errorf("desired: ExecSink: %w", err)
}

// Deliver runs the command for tok, with tok's secret on its standard
// input. It fails unless the command exits 0 having read the whole secret.
func (s ExecSink) Deliver(ctx context.Context, tok unleashadmin.APIToken) error {
	if strings.TrimSpace(s.Command) == "" {
		return errors.New("desired: ExecSink: no command")
	}
	if err := checkSecret("ExecSink", tok.Secret); err != nil {
		return err
	}
	// The secret waits in a pipe whose read end this process keeps too:
	// what is left in it once the command has ended was never read. It
	// fits the pipe's buffer (checkSecret bounds it below any pipe's), so
	// the write does not wait for the command.
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("desired: ExecSink: %w", err)
	}
	defer r.Close()
	_, werr := io.WriteString(w, tok.Secret)
	if cerr := w.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("desired: ExecSink: handing the secret over: %w", werr)
	}
	var stdout, stderr capped
	cmd := s.command(ctx, s.Command, tok, &stdout, &stderr)
	cmd.Stdin = r
	err = cmd.Run()
	stdout.show(s.Stdout, tok.Secret)
	stderr.show(s.Stderr, tok.Secret)
	if err != nil {
		return s.failed(ctx, "command", err)
	}
	if n, _ := r.Read(make([]byte, 1)); n > 0 {
		return errors.New("desired: ExecSink: the command exited 0 without reading the whole secret from its standard input, so it was not delivered")
	}
	return nil
}

// Held runs the read command for tok and returns what it printed, white
// space around it removed; ok is false when it printed nothing.
func (s ExecSink) Held(ctx context.Context, tok unleashadmin.APIToken) (string, bool, error) {
	if !s.Readable() {
		return "", false, errors.New("desired: ExecSink: no read command")
	}
	var stdout, stderr capped
	cmd := s.command(ctx, s.ReadCommand, tok, &stdout, &stderr)
	err := cmd.Run()
	held := strings.TrimSpace(string(stdout.buf))
	stderr.show(s.Stderr, held)
	if err != nil {
		return "", false, s.failed(ctx, "read command", err)
	}
	if stdout.dropped > 0 || len(held) > maxHeld {
		return "", false, fmt.Errorf("desired: ExecSink: the read command printed more than any secret (%d bytes)", maxHeld)
	}
	return held, held != "", nil
}

// outputMu serialises what the commands show: deliveries run in parallel,
// and their writers are often one (the command's stderr).
var outputMu sync.Mutex

// capped keeps the first maxOutput bytes written to it and counts the rest.
type capped struct {
	buf     []byte
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	keep := min(len(p), maxOutput-len(c.buf))
	c.buf = append(c.buf, p[:keep]...)
	c.dropped += len(p) - keep
	return len(p), nil
}

// show writes what c kept to w, with every echo of secrets taken out (the
// core's full echo check), and says how much was left out.
func (c *capped) show(w io.Writer, secrets ...string) {
	if w == nil || len(c.buf) == 0 && c.dropped == 0 {
		return
	}
	text := unleashadmin.RedactText(string(c.buf), secrets...)
	if c.dropped > 0 {
		// The cut may have split an echo below the length the check
		// finds: drop the cut line.
		if i := strings.LastIndexByte(text, '\n'); i >= 0 {
			text = text[:i+1]
		} else {
			text = ""
		}
		text += fmt.Sprintf("[desired: the command's output was cut after %d bytes]\n", maxOutput)
	}
	outputMu.Lock()
	defer outputMu.Unlock()
	_, _ = io.WriteString(w, text)
}

// sinkHolds reports whether held, what a sink holds for an entry, is the
// secret of t: a secret Unleash could have made (unleashadmin.UsableSecret),
// and t's own, or under secure token storage a whole v2 secret of t's
// selector. A bare selector, which lists and tables print and which does
// not authenticate, is no delivered secret, nor is anything else that only
// looks like one.
func sinkHolds(t *unleashadmin.APIToken, held string) bool {
	if !unleashadmin.UsableSecret(held) {
		return false
	}
	if _, whole := unleashadmin.Selector(held); whole {
		return t.Matches(held)
	}
	return t.Secret == held && !unleashadmin.IsSelector(held)
}
