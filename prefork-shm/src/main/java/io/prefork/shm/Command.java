package io.prefork.shm;

/** A control command that any process of the server's user posts in the table for the master. */
public enum Command {
  /** No command. */
  NONE(0),
  /** Children finish the connection in hand and exit; then the master stops. */
  WAIT_DOWN(1),
  /** Children are killed now; the master stops. */
  FORCE_DOWN(2),
  /** Every child is replaced by one of a new generation; the listening socket stays open. */
  RESTART(3),
  /** One child more, within the pool's bounds (like SIGTTIN). */
  ADD_CHILD(4),
  /** One child less, within the pool's bounds (like SIGTTOU). */
  REMOVE_CHILD(5);

  private static final Command[] BY_CODE = values();

  private final int code;

  Command(int code) {
    this.code = code;
  }

  /**
   * The value stored in shared memory.
   *
   * @return 0 ({@link #NONE}) to 5: the low 32 bits of the command word
   */
  public int code() {
    return code;
  }

  /**
   * The command with this stored value, or null when the value is out of range.
   *
   * @param code the low 32 bits of the command word
   * @return the command, or null for a value outside 0 to 5
   */
  public static Command ofCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
