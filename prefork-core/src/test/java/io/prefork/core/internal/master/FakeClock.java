package io.prefork.core.internal.master;

import java.time.Duration;

/** A monotonic clock that moves only when a test moves it, forward or back. */
final class FakeClock implements MonotonicClock {
  // Far from zero, as System.nanoTime often is; differences must not care.
  private long now = Long.MAX_VALUE - Duration.ofDays(1).toNanos();

  @Override
  public long nanoTime() {
    return now;
  }

  FakeClock advance(Duration d) {
    now += d.toNanos();
    return this;
  }

  FakeClock stepBack(Duration d) {
    now -= d.toNanos();
    return this;
  }
}
