// Command pause is the first process of every pod sandbox in the one-node cluster: it holds
// the pod's namespaces open and does nothing else. It sleeps until SIGINT or SIGTERM and
// reaps the zombies it inherits as PID 1 of a pod that shares its process namespace.
// Built static (CGO_ENABLED=0), it is the whole of the pause image: no shell, no libc.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
