package io.prefork.shm;

/** What the master is doing, as published in the table's header. */
public enum MasterState {
  /** The table exists but the master has not yet spawned its first children. */
  STARTING(1),
  /** Serving. */
  RUNNING(2),
  /** Replacing its children by a new generation. */
  RESTARTING(3),
  /** Waiting for its children to finish their connections (wait-down). */
  STOPPING(4),
  /** Killing its children (force-down). */
  FORCE_STOPPING(5),
  /** Not a valid state: the shared value was out of range. */
  UNKNOWN(-1);

  private final int code;

  MasterState(int code) {
    this.code = code;
  }

  /**
   * The value stored in shared memory.
   *
   * @return 1 to 5, or -1 for {@link #UNKNOWN} (never stored)
   */
  public int code() {
    return code;
  }

  /**
   * The state with this stored value, or {@link #UNKNOWN}.
   *
   * @param code a value read from the header's master state field
   * @return the state, never null; {@link #UNKNOWN} for any value but 1 to 5 (0 included)
   */
  public static MasterState ofCode(int code) {
    for (MasterState s : values()) {
      if (s.code == code && s != UNKNOWN) {
        return s;
      }
    }
    return UNKNOWN;
  }
}
