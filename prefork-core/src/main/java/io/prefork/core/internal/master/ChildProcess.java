package io.prefork.core.internal.master;

import io.prefork.shm.ExitRequest;

/** The master's own record of one child it spawned. Only the master thread touches it. */
public final class ChildProcess {
  final int pid;
  final int index;
  final long generation;
  final long spawnedAtNanos;

  /** Calls after which the child is recycled (0: never); each child has its own, jittered. */
  final long callLimit;

  /** Spawned to replace a child (restart, recycling) rather than as a spare. */
  final boolean replacement;

  /**
   * The replacement's slow start (0: none): it ramps its accepting threads up over this time, and
   * counts as the capacity that lets a marked child retire only once it is over.
   */
  final long slowStartNanos;

  /** A replacement that counted as capacity: the end of its slow start was seen. */
  boolean replacementCounted;

  ExitRequest exitRequest = ExitRequest.NONE;

  /** Marked to be replaced: it retires once a replacement accepts. */
  ExitRequest replaceFor = ExitRequest.NONE;

  ExitCause killCause;
  boolean ready;
  long readyAtNanos;

  /** When it was asked to exit (its exit deadline runs from here). */
  long exitAskedAtNanos;

  /** When its thread dump was asked for (0: not yet). */
  long dumpRequestedAtNanos;

  /** The watchdog found one of its workers hung: it was asked to exit, and is killed at the end. */
  boolean hung;

  ChildProcess(
      int pid,
      int index,
      long generation,
      long spawnedAtNanos,
      long callLimit,
      boolean replacement,
      long slowStartNanos) {
    this.pid = pid;
    this.index = index;
    this.generation = generation;
    this.spawnedAtNanos = spawnedAtNanos;
    this.callLimit = callLimit;
    this.replacement = replacement;
    this.slowStartNanos = slowStartNanos;
  }

  boolean killed() {
    return killCause != null;
  }

  /** Asked to exit (any reason) or killed: no longer counts as capacity. */
  boolean leaving() {
    return exitRequest != ExitRequest.NONE || killed();
  }

  @Override
  public String toString() {
    return "child " + index + " (pid " + pid + ", generation " + generation + ")";
  }
}
