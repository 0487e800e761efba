//go:build linux

package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// region hooks
// runHook runs one hook as the runtime-spec says: path, args (args[0]
// is argv[0]), env, the container's state as JSON on stdin, killed after
// timeout seconds.
func runHook(h Hook, st State) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	b, _ := json.Marshal(st)
	cmd.Stdin = bytes.NewReader(b)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %ds", *h.Timeout)
		}
		return fmt.Errorf("hook %s: %v: %s", h.Path, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// runHooks runs hooks in order; the first failure stops create.
func runHooks(hs []Hook, st State) error {
	for _, h := range hs {
		if err := runHook(h, st); err != nil {
			return err
		}
	}
	return nil
}

// warnHooks runs hooks whose failure is only a warning (poststart,
// poststop): the ones after a failed one still run.
func warnHooks(hs []Hook, st State) {
	for _, h := range hs {
		if err := runHook(h, st); err != nil {
			fmt.Fprintf(os.Stderr, "minidocker-runc: warning: %v\n", err)
		}
	}
}

// endregion hooks
