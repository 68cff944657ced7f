package io.prefork.core;

import io.prefork.shm.ExitRequest;

/** The master's own record of one child it spawned. Only the supervising thread touches it. */
final class ChildProcess {
  final int pid;
  final int index;
  final long generation;
  final long spawnedAtNanos;
  ExitRequest exitRequest = ExitRequest.NONE;
  boolean killed;
  boolean ready;
  long readyAtNanos;

  ChildProcess(int pid, int index, long generation, long spawnedAtNanos) {
    this.pid = pid;
    this.index = index;
    this.generation = generation;
    this.spawnedAtNanos = spawnedAtNanos;
  }

  /** Asked to exit (any reason) or killed: no longer counts as capacity. */
  boolean leaving() {
    return exitRequest != ExitRequest.NONE || killed;
  }

  @Override
  public String toString() {
    return "child " + index + " (pid " + pid + ", generation " + generation + ")";
  }
}
