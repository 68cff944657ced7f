package io.prefork.core.internal.master;

/** Why a child is gone, as the master counts it. */
public enum ExitCause {
  /** It was asked to exit (restart, recycling, retiring, stopping) and did. */
  REQUESTED,
  /** The watchdog killed it: busy on one connection longer than the job timeout. */
  WATCHDOG,
  /** Asked to exit, it did not within the graceful timeout: dumped, then killed. */
  EXIT_TIMEOUT,
  /** A force-down (or the master stopping) killed it. */
  KILLED,
  /** A replacement not accepting within the start timeout during a restart: killed. */
  START_TIMEOUT,
  /** It exited with status 0 without being asked to (the job ended its JVM): replaced. */
  EXITED,
  /** It died without being asked to: a crash, an exit of its own, an out-of-memory. */
  CRASHED;

  /** The label used in logs and metrics. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
