package io.prefork.core.internal.master;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * How many children the pool should have: the seed's "all busy: fork more, up to max", with
 * hysteresis so that a steady load never makes it churn.
 *
 * <ul>
 *   <li><b>Grow</b> when fewer than {@code minSpare} workers are idle (counting those of children
 *       still starting), or when, with fewer than {@code minSpare} idle, connections wait in the
 *       kernel's accept queue: by as many children as cover the shortfall; at most 1, 2, 4 ...
 *       {@link #MAX_SPAWN_RATE} children per tick while the shortage lasts, and never beyond {@code
 *       maxChildren}. A queue alone, with workers idle, is no reason: the cores are the bottleneck
 *       then, and another JVM would only compete for them.
 *   <li>A shortage grows the pool only once it has lasted {@link #SHORTAGE_NANOS}: a burst's first
 *       moments, or children still starting, are no reason yet, and by then the cores' load ({@link
 *       io.prefork.core.internal.os.CpuBusy}) has been measured under it (httpd decides once a
 *       second).
 *   <li><b>Hold</b> instead of growing while the machine's cores are all busy ({@link
 *       #CPU_BUSY_TO_HOLD}) and the queue moves (workers came back to accept since the last tick):
 *       every worker busy on a CPU-bound job looks like a shortage, but a new JVM would start cold
 *       on cores that have no time for it, and make everyone slower. A queue that does not move
 *       (long conversations hold every worker) still grows the pool, busy cores or not.
 *   <li><b>Shrink</b> only after the pool stayed over-provisioned for {@code idleTimeout}
 *       (php-fpm's process_idle_timeout): more than {@code maxSpare} workers would still be idle
 *       with one child fewer, on every tick of that time. Then one child retires, and one more per
 *       {@link #RETIRE_INTERVAL_NANOS} while that still holds. Since a child retires only when
 *       {@code maxSpare} idle workers remain without it, and the pool grows only below {@code
 *       minSpare}, a load between the two moves nothing.
 * </ul>
 */
public final class PoolPolicy {
  /** The most children spawned in one tick (httpd's is 32 per second). */
  static final int MAX_SPAWN_RATE = 8;

  /** How long a shortage must last before it grows the pool (the floor grows at once). */
  public static final long SHORTAGE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  /** The busy share of all cores from which a shortage holds instead of growing the pool. */
  static final double CPU_BUSY_TO_HOLD = io.prefork.core.internal.os.CpuBusy.SATURATED;

  /** Once the pool shrinks, one more child per this while the surplus lasts. */
  static final long RETIRE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  /**
   * The pool as the master sees it on one tick.
   *
   * @param live children not leaving (starting ones included)
   * @param starting children not yet accepting
   * @param idleWorkers idle workers of ready children
   * @param queued connections waiting in the kernel's accept queue
   * @param floor the fewest children to keep (minChildren, moved by ADD_CHILD and REMOVE_CHILD)
   * @param cpuBusy the busy share of the machine's cores lately, 0 to 1, or negative if unknown
   * @param accepting whether workers accepted connections since the last tick
   */
  public record Sample(
      int live,
      int starting,
      int idleWorkers,
      int queued,
      int floor,
      double cpuBusy,
      boolean accepting) {
    /** A sample with the cores' load unknown. */
    public Sample(int live, int starting, int idleWorkers, int queued, int floor) {
      this(live, starting, idleWorkers, queued, floor, -1, true);
    }
  }

  /**
   * What to do on this tick.
   *
   * @param spawn children to spawn now
   * @param retire whether to retire one idle child
   * @param reason why, for logs ("" when nothing changes; for a shortage held back, why it was)
   * @param idleWorkers idle workers it decided on
   * @param queued the accept queue it decided on
   * @param surplusNanos for a retirement, how long the surplus had lasted
   */
  public record Decision(
      int spawn, boolean retire, String reason, int idleWorkers, int queued, long surplusNanos) {
    static final Decision HOLD = new Decision(0, false, "", 0, 0, 0);

    /** {@return whether the pool changes} */
    public boolean changes() {
      return spawn > 0 || retire;
    }

    /** {@return whether a shortage was held back because the cores are busy} */
    public boolean held() {
      return !changes() && !reason.isEmpty();
    }
  }

  private final int maxChildren;
  private final int threadsPerChild;
  private final int minSpare;
  private final int maxSpare;
  private final long idleTimeoutNanos;
  private final long shortageNanos;
  private final MonotonicClock clock;

  private boolean shortage;
  private long shortageSinceNanos;

  private int spawnRate = 1;
  private long surplusSinceNanos;
  private boolean surplus;
  private boolean retiredInSurplus;

  public PoolPolicy(
      int maxChildren,
      int threadsPerChild,
      int minSpare,
      int maxSpare,
      long idleTimeoutNanos,
      long shortageNanos,
      MonotonicClock clock) {
    this.shortageNanos = shortageNanos;
    this.maxChildren = maxChildren;
    this.threadsPerChild = threadsPerChild;
    this.minSpare = minSpare;
    this.maxSpare = maxSpare;
    this.idleTimeoutNanos = idleTimeoutNanos;
    this.clock = clock;
  }

  /**
   * Decides this tick.
   *
   * @param s the pool now
   * @return how the pool changes
   */
  public Decision decide(Sample s) {
    int room = maxChildren - s.live();
    int belowFloor = s.floor() - s.live();
    int available = s.idleWorkers() + s.starting() * threadsPerChild;
    // Too few idle: what waits in the accept queue needs workers too, beyond the spares.
    int wanted = minSpare + (s.idleWorkers() < minSpare ? s.queued() : 0);
    int shortfall = wanted - available;
    long now = clock.nanoTime();
    if (shortfall <= 0) {
      shortage = false;
    } else if (!shortage) {
      shortage = true;
      shortageSinceNanos = now;
    }
    if (belowFloor > 0 || shortfall > 0) {
      surplus = false;
      if (belowFloor <= 0 && now - shortageSinceNanos < shortageNanos) {
        return Decision.HOLD; // not yet a shortage that lasts
      }
      if (belowFloor <= 0 && s.cpuBusy() >= CPU_BUSY_TO_HOLD && s.accepting() && room > 0) {
        spawnRate = 1;
        return new Decision(
            0,
            false,
            String.format(
                Locale.ROOT,
                "held: %d idle, queue %d, but the cores are %.0f%% busy",
                s.idleWorkers(),
                s.queued(),
                s.cpuBusy() * 100),
            s.idleWorkers(),
            s.queued(),
            0);
      }
      int byDemand = shortfall > 0 ? Math.min(spawnRate, ceilDiv(shortfall, threadsPerChild)) : 0;
      int spawn = Math.min(Math.max(belowFloor, byDemand), room);
      if (shortfall > 0) {
        spawnRate = Math.min(MAX_SPAWN_RATE, spawnRate * 2);
      }
      if (spawn <= 0) {
        return Decision.HOLD;
      }
      String reason =
          belowFloor > 0 && belowFloor >= byDemand
              ? "grew: " + s.live() + " of at least " + s.floor() + " children"
              : "grew: " + s.idleWorkers() + " idle, queue " + s.queued();
      return new Decision(spawn, false, reason, s.idleWorkers(), s.queued(), 0);
    }
    spawnRate = 1;
    boolean overProvisioned =
        s.live() > s.floor()
            && s.starting() == 0
            && s.idleWorkers() - threadsPerChild >= Math.max(maxSpare, minSpare);
    if (!overProvisioned) {
      surplus = false;
      retiredInSurplus = false;
      return Decision.HOLD;
    }
    if (!surplus) {
      surplus = true;
      surplusSinceNanos = now;
      return Decision.HOLD;
    }
    long waited = now - surplusSinceNanos;
    if (waited < (retiredInSurplus ? RETIRE_INTERVAL_NANOS : idleTimeoutNanos)) {
      return Decision.HOLD;
    }
    String reason =
        "retired: "
            + s.idleWorkers()
            + " idle for "
            + TimeUnit.NANOSECONDS.toSeconds(waited)
            + " s (maxSpare "
            + maxSpare
            + ")";
    surplusSinceNanos = now;
    retiredInSurplus = true;
    return new Decision(0, true, reason, s.idleWorkers(), s.queued(), waited);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
