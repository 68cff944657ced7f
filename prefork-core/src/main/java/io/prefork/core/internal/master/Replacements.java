package io.prefork.core.internal.master;

/**
 * Restart generations and the replacement swap. A restart starts a new generation; children of
 * older ones, and children due for recycling, are marked. For each marked child a replacement is
 * spawned (at most {@link #PARALLELISM} starting at once: child JVMs compete for the same cores),
 * and each replacement that accepts lets one marked child retire: capacity never drops.
 *
 * <p>While the pool serves and the machine's cores are busy, a replacement has a slow start (it
 * takes connections gradually, and counts as ready only at its end) and fewer start at once ({@link
 * #parallelism}): each cold JVM spends seconds of CPU compiling the job, and the cores have no time
 * to spare, so warming them one after the other turns one deep dip into a shallow one.
 */
public final class Replacements {
  /** Replacements starting at once. */
  static final int PARALLELISM = 2;

  private long generation = 1;
  private int starting;
  private int ready;

  /** {@return the generation new children belong to} */
  public long generation() {
    return generation;
  }

  /** A restart: new children belong to the next generation. */
  public long nextGeneration() {
    return ++generation;
  }

  /**
   * Replacements starting at once: {@link #PARALLELISM}, but while the cores are busy one for every
   * four children in the pool, so one below 8 children (at least one, at most {@link
   * #PARALLELISM}).
   *
   * @param coresBusy whether the machine's cores are busy (the replacements have a slow start)
   * @param children children in the pool, not counting replacements on their way
   */
  public static int parallelism(boolean coresBusy, int children) {
    return coresBusy ? Math.max(1, Math.min(PARALLELISM, children / 4)) : PARALLELISM;
  }

  /**
   * @param marked children marked for replacement and not yet asked to exit
   * @param parallelism replacements starting at once, at most ({@link #parallelism})
   * @return replacements to spawn now
   */
  public int toSpawn(int marked, int parallelism) {
    return Math.max(0, Math.min(parallelism - starting, marked - starting - ready));
  }

  /** A replacement was spawned. */
  public void spawned() {
    starting++;
  }

  /** A replacement accepts, its slow start over: it is capacity, and one marked child may go. */
  public void becameReady() {
    starting = Math.max(0, starting - 1);
    ready++;
  }

  /** A replacement died before accepting. */
  public void diedStarting() {
    starting = Math.max(0, starting - 1);
  }

  /** {@return whether one marked child may retire now (and counts it)} */
  public boolean takeReady() {
    if (ready == 0) {
      return false;
    }
    ready--;
    return true;
  }

  /** {@return replacements still starting} */
  public int starting() {
    return starting;
  }

  /** A restart was aborted, or nothing is marked any more: forget every replacement in flight. */
  public void clear() {
    starting = 0;
    ready = 0;
  }
}
