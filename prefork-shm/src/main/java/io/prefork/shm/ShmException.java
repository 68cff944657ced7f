package io.prefork.shm;

/**
 * A System V shared memory call failed. The message names the call, the key in hex, errno's name
 * and text, and what to do about it.
 */
public class ShmException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String call;
  private final int key;
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

  /** The failing call, e.g. {@code "shmget"}. */
  public String call() {
    return call;
  }

  /** The key the call was about. */
  public int key() {
    return key;
  }

  /** The errno value the call left. */
  public int errno() {
    return errno;
  }

  /** errno's symbolic name, e.g. {@code "EEXIST"}. */
  public String errnoName() {
    return Native.errnoName(errno);
  }
}
