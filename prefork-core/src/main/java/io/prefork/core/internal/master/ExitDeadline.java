package io.prefork.core.internal.master;

/**
 * The deadline of a child asked to exit, whatever the reason (restart, shrink, recycling,
 * wait-down, watchdog): it gets {@code gracefulTimeout} to finish its connections, then a thread
 * dump is asked for (SIGQUIT: the JVM prints every thread's stack), then, {@code dumpGrace} later,
 * it is killed. So a job whose {@code close()} hangs, or a worker blocked on a client that never
 * reads, cannot keep a restart or a stop from finishing.
 */
public final class ExitDeadline {
  /** What to do with a leaving child now. */
  public enum Step {
    /** Let it finish. */
    WAIT,
    /** Ask for its thread dump. */
    DUMP,
    /** Kill it. */
    KILL
  }

  private final long graceNanos;
  private final long dumpGraceNanos;
  private final MonotonicClock clock;

  public ExitDeadline(long graceNanos, long dumpGraceNanos, MonotonicClock clock) {
    this.graceNanos = graceNanos;
    this.dumpGraceNanos = dumpGraceNanos;
    this.clock = clock;
  }

  /**
   * @param askedAtNanos when the child was asked to exit
   * @param dumpedAtNanos when its thread dump was asked for, or 0 (a hung child's is asked for at
   *     once, while the stack still shows where it hangs)
   * @param cutShort no wait is left to give: the only connections it still holds are hung ones (the
   *     watchdog's case)
   * @return the next step
   */
  public Step step(long askedAtNanos, long dumpedAtNanos, boolean cutShort) {
    long now = clock.nanoTime();
    boolean due = cutShort || now - askedAtNanos >= graceNanos;
    if (!due) {
      return Step.WAIT;
    }
    if (dumpedAtNanos == 0) {
      return Step.DUMP;
    }
    return now - dumpedAtNanos >= dumpGraceNanos ? Step.KILL : Step.WAIT;
  }

  /** {@return the graceful timeout in nanoseconds} */
  public long graceNanos() {
    return graceNanos;
  }
}
