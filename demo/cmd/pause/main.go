// Command pause is the sandbox (pause) container of the local node's pods, like Kubernetes' own
// pause: it holds the pod's namespaces by sleeping forever, exits on SIGINT or SIGTERM, and, being
// PID 1 when the pod shares its process namespace, reaps the orphans reparented to it so that they
// do not linger as zombies.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("stagewise pause")
		return
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		// Like Kubernetes' pause: the signal's name on stderr, then a clean exit.
		fmt.Fprintf(os.Stderr, "pause: shutting down, got signal: %v\n", sig)
		os.Exit(0)
	}
}

// reap collects every child that has exited. Signals coalesce, so one SIGCHLD may stand for
// several children: wait until none is left.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
