package io.prefork.core.internal.master;

/**
 * Monotonic time in nanoseconds, as {@link System#nanoTime()}: the only clock the master's timers
 * and policies read, so a wall-clock step moves none of them, and tests drive them with a fake.
 */
@FunctionalInterface
public interface MonotonicClock {
  /** The system's monotonic clock. */
  MonotonicClock SYSTEM = System::nanoTime;

  /** {@return nanoseconds from an arbitrary origin; only differences mean anything} */
  long nanoTime();
}
