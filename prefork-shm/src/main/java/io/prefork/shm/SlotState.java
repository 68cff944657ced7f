package io.prefork.shm;

/** The state of one worker slot in the {@link SharedStatusTable}. Zeroed memory reads as UNUSED. */
public enum SlotState {
  /** No worker: the slot is free. */
  UNUSED(0),
  /** The master spawned a child for this slot; it has not reached accept yet. */
  STARTING(1),
  /** Waiting in accept for a connection. */
  IDLE(2),
  /** Serving a connection. */
  BUSY(3),
  /** Finishing: it will accept no more connections and is about to exit. */
  EXITING(4),
  /**
   * A spare thread of a running child, not accepting: the child starts accepting on it when its
   * accepting workers are all busy and the cores have time for more (see the child's pool of
   * accepting threads). Ready capacity, counted with the idle workers by the master's pool policy.
   */
  PARKED(5),
  /** Not a valid state: the shared value was out of range (shown, never trusted). */
  UNKNOWN(-1);

  private static final SlotState[] BY_CODE = {UNUSED, STARTING, IDLE, BUSY, EXITING, PARKED};

  private final int code;

  SlotState(int code) {
    this.code = code;
  }

  /**
   * The value stored in shared memory.
   *
   * @return 0 to 5, or -1 for {@link #UNKNOWN} (never stored)
   */
  public int code() {
    return code;
  }

  /**
   * The state with this stored value, or {@link #UNKNOWN} when the value is out of range.
   *
   * @param code a value read from a slot's state field
   * @return the state, never null
   */
  public static SlotState ofCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNKNOWN;
  }

  /**
   * True for a worker of a child that is up: it accepts, serves, or is parked as a spare.
   *
   * @return true for {@link #IDLE}, {@link #BUSY} and {@link #PARKED}, false otherwise
   */
  public boolean isAccepting() {
    return this == IDLE || this == BUSY || this == PARKED;
  }

  /**
   * True for a worker that could take a connection without waiting for one to finish.
   *
   * @return true for {@link #IDLE} and {@link #PARKED}
   */
  public boolean isSpare() {
    return this == IDLE || this == PARKED;
  }
}
