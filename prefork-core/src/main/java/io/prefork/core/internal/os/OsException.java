package io.prefork.core.internal.os;

import io.prefork.core.PreforkException;

/**
 * A libc call failed: the message says which call, on what, and the error ({@code "bind(fd 7)
 * failed: EADDRINUSE (Address already in use)"}); {@link #errno()} lets a caller tell errors apart
 * and give advice.
 */
public final class OsException extends PreforkException {
  private static final long serialVersionUID = 1L;

  private final int errno;

  OsException(String message, int errno) {
    super(message);
    this.errno = errno;
  }

  /** {@return the error number} */
  public int errno() {
    return errno;
  }
}
