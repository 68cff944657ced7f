package io.prefork.core.internal.child;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How many of a child's worker threads accept connections; the others are parked spares. The
 * child's own pool, sized to demand before the master's pool of children is: a waiting job (a
 * database call) needs a thread per connection in flight, a CPU-bound one needs few, and more
 * threads than the cores can run only add context switches (hello at c=50: 2 children of 8
 * accepting threads serve 1.45x the requests of 2 children of 64, with half the p99).
 *
 * <ul>
 *   <li><b>Grow</b>, doubling up to {@code max}, once every accepting thread has been busy on
 *       {@link #GROW_AFTER_TICKS} ticks in a row, unless the machine's cores are at least {@link
 *       #CPU_BUSY_TO_HOLD} busy: then more threads would mostly compete for the cores. But when the
 *       busy threads wait ({@link Sample#waiting()}: blocked in a sleep, a call to another server)
 *       and the kernel's queue holds more than the child accepted in the last tick, the child
 *       accepts on a thread for every connection busy or queued (at least twice as many), busy
 *       cores or not: those threads use no core, and connections wait for them. (Busy threads
 *       blocked with a short queue are hello's, waiting for a client that has no core yet: more
 *       threads would not help it.)
 *   <li><b>Accept on every thread at once</b> when every accepting thread was busy and the work was
 *       stuck on {@link #GROW_AFTER_TICKS} ticks in a row: connections wait in the kernel's queue,
 *       and at this tick's accept rate it would take more than {@link #DRAIN_TICKS} ticks to take
 *       them ({@link Sample#stuck()}): long conversations (keep-alive, a slow upstream) hold them,
 *       and what waits in the kernel's queue has no other way in, busy cores or not.
 *   <li><b>Shrink</b>, halving down to {@code min}, after {@link #SHRINK_AFTER_NANOS} in which at
 *       most a quarter of the accepting threads were ever busy at once: the hysteresis between a
 *       quarter and all keeps a steady load from moving anything.
 * </ul>
 *
 * <p>A replacement spawned while the cores are busy has a <b>slow start</b>: it accepts on one
 * thread, then on more in proportion to the time since its workers started, up to {@code min} at
 * the end, and only then follows the rules above. A cold JVM runs the job slowly until its JIT has
 * compiled it; while it ramps, the warm children it replaces keep serving most connections (a load
 * balancer's slow start, applied to a child).
 *
 * <p>Driven by the child's watch thread, one {@link #decide} per tick; not thread-safe.
 */
public final class AcceptingThreads {
  /** Ticks in a row with every accepting thread busy before the child accepts on more. */
  static final int GROW_AFTER_TICKS = 2;

  /** A queue this child would take longer than this many ticks to accept is stuck. */
  static final int DRAIN_TICKS = 10;

  /** The busy share of all cores from which a shortage holds instead of growing. */
  static final double CPU_BUSY_TO_HOLD = io.prefork.core.internal.os.CpuBusy.SATURATED;

  /** The share of sampled busy threads blocked from which the work is said to wait. */
  static final double WAITING_SHARE = 0.75;

  /** How long at most a quarter of the accepting threads must be busy before half park. */
  static final long SHRINK_AFTER_NANOS = TimeUnit.SECONDS.toNanos(10);

  /**
   * The child on one tick.
   *
   * @param busy accepting threads serving a connection now
   * @param accepted connections the child accepted since the last tick
   * @param queued connections waiting in the listening socket's queue (all children's), or negative
   *     if unknown
   * @param cpuBusy the busy share of the machine's cores lately, 0 to 1, or negative if unknown
   * @param sampled busy threads whose scheduler state was read this tick (0: none)
   * @param blocked of those, the ones blocked rather than running or ready to run
   */
  public record Sample(
      int busy, long accepted, int queued, double cpuBusy, int sampled, int blocked) {
    /** A tick with no thread states read. */
    public Sample(int busy, long accepted, int queued, double cpuBusy) {
      this(busy, accepted, queued, cpuBusy, 0, 0);
    }

    /**
     * {@return whether the busy threads wait rather than compute: at least {@link #WAITING_SHARE}
     * of those sampled were blocked}
     */
    public boolean waiting() {
      return sampled > 0 && blocked >= WAITING_SHARE * sampled;
    }

    /**
     * {@return whether what waits would take more than {@link #DRAIN_TICKS} ticks at this tick's
     * accept rate (with the queue unknown: whether nothing was accepted)}
     */
    public boolean stuck() {
      return queued < 0 ? accepted == 0 : queued > 0 && accepted * DRAIN_TICKS < queued;
    }
  }

  private final int min;
  private final int max;
  private final long slowStartNanos;
  private final LongSupplier nanoTime;
  private long workersStartedAtNanos = -1;
  private int accepting;
  private int allBusyTicks;
  private int stuckTicks;
  private int peakBusy;
  private long windowSinceNanos;

  /**
   * @param min the threads that always accept (at least 1)
   * @param max the child's worker threads
   * @param nanoTime a monotonic clock
   */
  public AcceptingThreads(int min, int max, LongSupplier nanoTime) {
    this(min, max, 0, nanoTime);
  }

  /**
   * @param min the threads that always accept (at least 1)
   * @param max the child's worker threads
   * @param slowStartNanos how long the ramp from one accepting thread to {@code min} takes, from
   *     {@link #workersStarted()}; 0 for none
   * @param nanoTime a monotonic clock
   */
  public AcceptingThreads(int min, int max, long slowStartNanos, LongSupplier nanoTime) {
    if (min < 1 || min > max) {
      throw new IllegalArgumentException("min (" + min + ") must be within 1.." + max);
    }
    if (slowStartNanos < 0) {
      throw new IllegalArgumentException("slowStartNanos (" + slowStartNanos + ") is negative");
    }
    this.min = min;
    this.max = max;
    this.slowStartNanos = slowStartNanos;
    this.nanoTime = nanoTime;
    this.accepting = slowStartNanos > 0 ? 1 : min;
    this.windowSinceNanos = nanoTime.getAsLong();
  }

  /** The child's workers start accepting now: a slow start's ramp runs from here. */
  public void workersStarted() {
    if (workersStartedAtNanos < 0) {
      workersStartedAtNanos = nanoTime.getAsLong();
    }
  }

  /**
   * {@return the accepting threads a slow start allows now, or 0 once it is over (or there is
   * none)}
   */
  int slowStartCap(long now) {
    if (slowStartNanos == 0) {
      return 0;
    }
    long elapsed = workersStartedAtNanos < 0 ? 0 : now - workersStartedAtNanos;
    if (elapsed >= slowStartNanos) {
      return 0;
    }
    return 1 + (int) ((min - 1) * elapsed / slowStartNanos);
  }

  /** {@return the threads that accept now} */
  public int accepting() {
    return accepting;
  }

  /**
   * Decides this tick.
   *
   * @param s the child now
   * @return the threads that accept from now on
   */
  public int decide(Sample s) {
    long now = nanoTime.getAsLong();
    int ramp = slowStartCap(now);
    if (ramp > 0) {
      // Slow start: neither busy threads nor a queue are a reason for more; the warm children
      // the cold one replaces take them.
      accepting = ramp;
      allBusyTicks = 0;
      stuckTicks = 0;
      restartWindow(now);
      return accepting;
    }
    accepting = Math.max(accepting, min); // a slow start just ended
    peakBusy = Math.max(peakBusy, s.busy());
    if (s.busy() >= accepting && accepting < max) {
      if (s.stuck()) {
        allBusyTicks = 0;
        if (++stuckTicks >= GROW_AFTER_TICKS) {
          accepting = max;
          stuckTicks = 0;
          restartWindow(now);
        }
        return accepting;
      }
      stuckTicks = 0;
      boolean waitersNeedThreads = s.waiting() && s.queued() > s.accepted();
      boolean held = s.cpuBusy() >= CPU_BUSY_TO_HOLD && !waitersNeedThreads;
      allBusyTicks = held ? 0 : allBusyTicks + 1;
      if (allBusyTicks >= GROW_AFTER_TICKS) {
        int target = accepting * 2;
        if (waitersNeedThreads) {
          // Each connection in the kernel's queue would hold a thread that waits: take them in
          // one step rather than in several doublings, a tick apart.
          target = Math.max(target, s.busy() + s.queued());
        }
        accepting = Math.min(max, target);
        allBusyTicks = 0;
        restartWindow(now);
      }
      return accepting;
    }
    allBusyTicks = 0;
    stuckTicks = 0;
    if (now - windowSinceNanos >= SHRINK_AFTER_NANOS) {
      if (accepting > min && peakBusy * 4 <= accepting) {
        accepting = Math.max(min, accepting / 2);
      }
      restartWindow(now);
    }
    return accepting;
  }

  private void restartWindow(long now) {
    windowSinceNanos = now;
    peakBusy = 0;
  }
}
