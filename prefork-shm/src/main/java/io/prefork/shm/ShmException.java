package io.prefork.shm;

/**
 * A System V shared memory call failed. The message names the call, the key in hex, errno's name
 * and text, and what to do about it.
 */
public class ShmException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The failing call. */
  private final String call;

  /** The key the call was about. */
  private final int key;

  /** The errno value the call left. */
  private final int errno;

  ShmException(String call, int key, int errno, String advice) {
    super(
        call
            + " failed for shm key "
            + ShmKeys.toHex(key)
            + ": "
            + Native.errnoName(errno)
            + " ("
            + Native.errnoText(errno)
            + ")"
            + (advice == null || advice.isEmpty() ? "" : ": " + advice));
    this.call = call;
    this.key = key;
    this.errno = errno;
  }

  /**
   * The failing call, e.g. {@code "shmget"}.
   *
   * @return the call's name, with its flags where they matter, e.g. {@code "shmctl(IPC_STAT)"}
   */
  public String call() {
    return call;
  }

  /**
   * The key the call was about.
   *
   * @return the System V key (print it with {@link ShmKeys#toHex})
   */
  public int key() {
    return key;
  }

  /**
   * The errno value the call left.
   *
   * @return the platform's errno number, e.g. 17 for EEXIST on Linux
   */
  public int errno() {
    return errno;
  }

  /**
   * errno's symbolic name, e.g. {@code "EEXIST"}.
   *
   * @return the name, or {@code "errno N"} when the platform has no name for the value
   */
  public String errnoName() {
    return Native.errnoName(errno);
  }
}
