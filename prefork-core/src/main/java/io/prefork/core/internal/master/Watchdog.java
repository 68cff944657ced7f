package io.prefork.core.internal.master;

/**
 * Finds workers busy on one connection for longer than the job timeout. It times them itself on the
 * monotonic clock, from the first tick that saw the slot busy with its current call count, rather
 * than trusting the wall-clock stamps in the table: a clock step must not make every busy worker
 * look hung. A new call (the count moved) starts the timing again.
 */
public final class Watchdog {
  private final long limitNanos;
  private final MonotonicClock clock;
  private final long[] busySinceNanos;
  private final long[] callsWhenSeen;
  private final boolean[] busy;

  /**
   * @param limitNanos the job timeout; 0 or less turns the watchdog off
   * @param slots the table's slots
   */
  public Watchdog(long limitNanos, int slots, MonotonicClock clock) {
    this.limitNanos = limitNanos;
    this.clock = clock;
    this.busySinceNanos = new long[slots];
    this.callsWhenSeen = new long[slots];
    this.busy = new boolean[slots];
  }

  /** {@return whether the watchdog is on} */
  public boolean enabled() {
    return limitNanos > 0;
  }

  /**
   * Looks at one slot on this tick.
   *
   * @param slot the slot
   * @param isBusy whether it serves a connection now
   * @param calls its call count now (a new connection moves it)
   * @return whether it has been busy on the same connection for longer than the limit
   */
  public boolean hung(int slot, boolean isBusy, long calls) {
    if (!enabled()) {
      return false;
    }
    if (!isBusy) {
      busy[slot] = false;
      return false;
    }
    long now = clock.nanoTime();
    if (!busy[slot] || callsWhenSeen[slot] != calls) {
      busy[slot] = true;
      callsWhenSeen[slot] = calls;
      busySinceNanos[slot] = now;
      return false;
    }
    return now - busySinceNanos[slot] > limitNanos;
  }

  /** {@return how long the slot has been busy on its connection, as seen (0 when not busy)} */
  public long busyNanos(int slot) {
    return busy[slot] ? clock.nanoTime() - busySinceNanos[slot] : 0;
  }

  /** The slot was freed: its next occupant starts afresh. */
  public void forget(int slot) {
    busy[slot] = false;
  }

  /** {@return the limit in nanoseconds} */
  public long limitNanos() {
    return limitNanos;
  }
}
