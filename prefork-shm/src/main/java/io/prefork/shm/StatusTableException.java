package io.prefork.shm;

/**
 * A segment could not be used as a prefork status table. The message says which check failed, with
 * the values found, and what to do; {@link #reason()} lets callers tell the cases apart.
 */
public class StatusTableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Which check failed. */
  public enum Reason {
    /** The segment belongs to another user, or its mode is not 0600. */
    NOT_OURS,
    /** The segment is not a prefork table (wrong magic, or too small for a header). */
    FOREIGN,
    /** A prefork table whose master has not finished creating it yet. */
    NOT_READY,
    /** A prefork table of another layout version. */
    VERSION_MISMATCH,
    /**
     * Slot size or count do not match the layout or the segment's real size, or the pool's bounds
     * do not match the slot count.
     */
    SIZE_MISMATCH,
    /**
     * A prefork table whose header holds a value no master writes: a master pid that is no process
     * id, a time before 1970, a listen address or port out of range.
     */
    CORRUPT,
    /** A live master owns the table. */
    LIVE_OWNER,
    /** The owner is gone but processes are still attached to the segment. */
    STALE_ATTACHED,
    /** A slot index outside the table. */
    NO_SUCH_SLOT
  }

  /** Which check failed. */
  private final Reason reason;

  /** The key of the segment. */
  private final int key;

  StatusTableException(Reason reason, int key, String message) {
    super("shm key " + ShmKeys.toHex(key) + ": " + message);
    this.reason = reason;
    this.key = key;
  }

  /**
   * Which check failed.
   *
   * @return the failed check, never null
   */
  public Reason reason() {
    return reason;
  }

  /**
   * The key of the segment.
   *
   * @return the System V key
   */
  public int key() {
    return key;
  }
}
