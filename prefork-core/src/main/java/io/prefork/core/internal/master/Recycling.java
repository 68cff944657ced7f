package io.prefork.core.internal.master;

import java.util.function.LongUnaryOperator;

/**
 * Recycling after a number of calls (httpd's MaxConnectionsPerChild, gunicorn's max_requests with
 * max_requests_jitter): each child gets its own limit, {@code maxCalls} plus a random jitter, so
 * children spawned together do not all recycle together.
 */
public final class Recycling {
  private final long maxCalls;
  private final long jitter;
  private final LongUnaryOperator random;

  /**
   * @param maxCalls calls after which a child is recycled; 0 or less: never
   * @param jitter the most calls added at random to each child's limit
   * @param random returns a number in [0, bound) for a bound
   */
  public Recycling(long maxCalls, long jitter, LongUnaryOperator random) {
    this.maxCalls = maxCalls;
    this.jitter = jitter;
    this.random = random;
  }

  /** {@return whether children are recycled at all} */
  public boolean enabled() {
    return maxCalls > 0;
  }

  /** {@return the call limit for a child spawned now; 0: never recycled} */
  public long limitForNewChild() {
    if (maxCalls <= 0) {
      return 0;
    }
    long extra = jitter > 0 ? random.applyAsLong(jitter + 1) : 0;
    return maxCalls + extra;
  }

  /**
   * @param calls calls the child accepted so far
   * @param limit its limit from {@link #limitForNewChild()}
   * @return whether the child is due for replacement
   */
  public boolean due(long calls, long limit) {
    return limit > 0 && calls >= limit;
  }
}
