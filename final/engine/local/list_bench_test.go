//go:build linux

package local

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/state"
)

// BenchmarkContainerList is `docker ps` of 100 running containers, as the
// daemon answers it: records read (and decoded once), liveness checked.
// The "containers" are records whose process is this one, alive.
func BenchmarkContainerList(b *testing.B) {
	old := state.Root
	state.Root = b.TempDir()
	defer func() { state.Root = old }()
	start, _ := state.StartTime(os.Getpid())
	for i := 0; i < 100; i++ {
		c := &state.Container{ID: state.NewID(), Name: fmt.Sprintf("bench-%d", i), Image: "busybox", ImageID: "x",
			Created: time.Now(), Config: types.Config{Cmd: types.StrSlice{"sleep", "1000"}}, HostConfig: types.HostConfig{NetworkMode: "none"}}
		if err := state.Create(c, false); err != nil {
			b.Fatal(err)
		}
		state.Update(c.ID, func(r *state.Container) error {
			r.State = state.State{Status: "running", Pid: os.Getpid(), PidStart: start, MonitorPid: os.Getpid(), MonStart: start, StartedAt: time.Now()}
			return nil
		})
	}
	e := New("bench", true)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs, err := e.ContainerList(context.Background(), engine.ListOptions{})
		if err != nil || len(cs) != 100 {
			b.Fatalf("%d containers, %v", len(cs), err)
		}
	}
}
