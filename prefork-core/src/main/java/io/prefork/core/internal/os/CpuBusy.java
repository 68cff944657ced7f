package io.prefork.core.internal.os;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * How busy the machine's cores were over the last half second or so: the pool policies' reason not
 * to start another JVM, or accept on more threads, when there is no core for them to run on.
 */
public final class CpuBusy {
  /** The busy share of all cores from which more JVMs or threads would only compete for them. */
  public static final double SATURATED = 0.9;

  /** The shortest interval measured: 50 clock ticks per core at the kernel's usual 100 Hz. */
  static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final Supplier<long[]> source;
  private final LongSupplier nanoTime;
  private long[] last;
  private long lastAtNanos;
  private double fraction = -1;

  /**
   * @param source {busy, total} CPU ticks since boot, or null when unknown ({@code
   *     CpuTimes::machine})
   * @param nanoTime a monotonic clock
   */
  public CpuBusy(Supplier<long[]> source, LongSupplier nanoTime) {
    this.source = source;
    this.nanoTime = nanoTime;
  }

  /**
   * The busy share of all cores over the last completed interval.
   *
   * @return 0 to 1, or -1 while unknown (the first interval, or no {@code /proc/stat})
   */
  public double fraction() {
    long now = nanoTime.getAsLong();
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
