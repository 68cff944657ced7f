package io.prefork.core;

/**
 * prefork could not do what was asked: a server could not start, a controller found no server, a
 * command was not taken. The message names the value at fault and what to do.
 */
public class PreforkException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * An error with a message that says what went wrong and what to do.
   *
   * @param message what went wrong and what to do
   */
  public PreforkException(String message) {
    super(message);
  }

  /**
   * An error caused by another one.
   *
   * @param message what went wrong and what to do
   * @param cause the error behind it
   */
  public PreforkException(String message, Throwable cause) {
    super(message, cause);
  }
}
