package io.prefork.core.internal.master;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * How busy the machine's cores were over the last half second or so: the pool policy's reason not
 * to start another JVM when there is no core for it to run on.
 */
public final class CpuBusy {
  /** The shortest interval measured: 50 clock ticks per core at the kernel's usual 100 Hz. */
  static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final Supplier<long[]> source;
  private final MonotonicClock clock;
  private long[] last;
  private long lastAtNanos;
  private double fraction = -1;

  /**
   * @param source {busy, total} CPU ticks since boot, or null when unknown ({@code
   *     CpuTimes::machine})
   * @param clock the master's clock
   */
  public CpuBusy(Supplier<long[]> source, MonotonicClock clock) {
    this.source = source;
    this.clock = clock;
  }

  /**
   * The busy share of all cores over the last completed interval.
   *
   * @return 0 to 1, or -1 while unknown (the first interval, or no {@code /proc/stat})
   */
  public double fraction() {
    long now = clock.nanoTime();
    if (last != null && now - lastAtNanos < INTERVAL_NANOS) {
      return fraction;
    }
    long[] sample = source.get();
    if (sample == null) {
      last = null;
      fraction = -1;
      return fraction;
    }
    if (last != null) {
      long total = sample[1] - last[1];
      long busy = sample[0] - last[0];
      fraction = total <= 0 ? fraction : Math.max(0, Math.min(1, (double) busy / total));
    }
    last = sample;
    lastAtNanos = now;
    return fraction;
  }
}
