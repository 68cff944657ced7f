package io.prefork.core.internal.master;

import java.util.concurrent.TimeUnit;

/**
 * When children die young again and again (a broken deploy, a job that crashes on start), waits
 * longer and longer before the next spawn: none after the first such death, then 100 ms doubled per
 * death in a row, up to 10 s. The loop ends once a child spawned after the last such death has
 * served for {@link #CRASH_WINDOW_NANOS}. A child that served longer than {@link
 * #QUICK_DEATH_NANOS} before dying (a kill, a bug on one request) is no crash loop: it is replaced
 * at once.
 */
public final class CrashBackoff {
  static final long QUICK_DEATH_NANOS = TimeUnit.SECONDS.toNanos(1);
  static final long CRASH_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);
  static final long FIRST_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  static final long MAX_DELAY_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final MonotonicClock clock;
  private int crashesInARow;
  private long lastCrashNanos;
  private long untilNanos;
  private boolean waiting;

  public CrashBackoff(MonotonicClock clock) {
    this.clock = clock;
  }

  /**
   * A child died without being asked to.
   *
   * @param servedNanos how long it had been accepting, or -1 if it never did
   * @return the delay before the next spawn in nanoseconds, or -1 if this death was not quick (the
   *     child had served a while) and the pool replaces it at once
   */
  public long childDied(long servedNanos) {
    if (servedNanos >= QUICK_DEATH_NANOS) {
      return -1;
    }
    long now = clock.nanoTime();
    crashesInARow++;
    lastCrashNanos = now;
    long delay =
        crashesInARow <= 1
            ? 0
            : Math.min(MAX_DELAY_NANOS, FIRST_DELAY_NANOS << Math.min(20, crashesInARow - 2));
    untilNanos = now + delay;
    waiting = delay > 0;
    return delay;
  }

  /** A spawn failed (posix_spawn, a pipe): the longest wait, since retrying at once fails too. */
  public void spawnFailed() {
    crashesInARow++;
    lastCrashNanos = clock.nanoTime();
    untilNanos = lastCrashNanos + MAX_DELAY_NANOS;
    waiting = true;
  }

  /**
   * A ready child: once one spawned after the last crash has served the crash window, the loop is
   * over.
   *
   * @param spawnedAtNanos when the child was spawned
   * @return whether this call ended a crash loop
   */
  public boolean childServing(long spawnedAtNanos) {
    if (crashesInARow == 0
        || spawnedAtNanos - lastCrashNanos <= 0
        || clock.nanoTime() - spawnedAtNanos < CRASH_WINDOW_NANOS) {
      return false;
    }
    crashesInARow = 0;
    waiting = false;
    return true;
  }

  /** {@return whether spawning must wait} */
  public boolean backingOff() {
    if (waiting && clock.nanoTime() - untilNanos >= 0) {
      waiting = false;
    }
    return waiting;
  }

  /** {@return how long spawning still waits, in nanoseconds (0 when it does not)} */
  public long remainingNanos() {
    return backingOff() ? untilNanos - clock.nanoTime() : 0;
  }

  /** {@return children that died young in a row, since the last loop ended} */
  public int crashesInARow() {
    return crashesInARow;
  }
}
