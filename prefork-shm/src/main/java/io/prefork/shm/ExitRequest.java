package io.prefork.shm;

/**
 * Why the master asked a worker to exit. Every request is graceful: the worker finishes the
 * connection in hand, accepts no other, and exits.
 */
public enum ExitRequest {
  /** No request: keep serving. */
  NONE(0),
  /** The server is stopping (wait-down). */
  STOP(1),
  /** A restart replaces the worker with one of a new generation. */
  RESTART(2),
  /** The pool shrinks: too many idle workers, or one child less was asked for. */
  RETIRE(3),
  /** The worker served its maximum number of connections. */
  RECYCLE(4);

  private static final ExitRequest[] BY_CODE = values();

  private final int code;

  ExitRequest(int code) {
    this.code = code;
  }

  /**
   * The value stored in shared memory.
   *
   * @return 0 ({@link #NONE}) to 4
   */
  public int code() {
    return code;
  }

  /**
   * The request with this stored value; out-of-range values read as {@link #STOP}.
   *
   * @param code a value read from a slot's exit request field
   * @return the request, never null
   */
  public static ExitRequest ofCode(int code) {
    if (code == 0) {
      return NONE;
    }
    return code > 0 && code < BY_CODE.length ? BY_CODE[code] : STOP;
  }
}
