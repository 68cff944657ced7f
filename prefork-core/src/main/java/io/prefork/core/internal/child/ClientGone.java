package io.prefork.core.internal.child;

import java.net.SocketException;
import java.net.SocketTimeoutException;

/**
 * Tells a job's failure that is only the client going away (it reset the connection, or closed it
 * while the answer was being written) from one worth a warning. Clients do this all the time:
 * browsers and load balancers drop idle keep-alive connections with a reset, and a load tool resets
 * all of its connections when it stops. As gunicorn ignores {@code ECONNRESET} and {@code EPIPE}
 * and nginx logs client errors at info, the child logs these at debug, so that its warnings stay
 * for failures of the job itself.
 */
final class ClientGone {
  private static final int MAX_DEPTH = 16;

  private ClientGone() {}

  /**
   * What the streams on the descriptor throw when a read or write failed and the kernel says the
   * connection is closed ({@code tcpi_state} {@code TCP_CLOSE}: the client's reset arrived). The
   * kernel's state, not the message, because the system's messages follow the locale.
   */
  static final class Failure extends SocketException {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message);
    }
  }

  /**
   * Whether {@code failure}, or one of its causes, is the client going away: a {@link Failure}, or
   * the JDK's own socket streams' "Connection reset" or "Broken pipe" (a job that asked for the
   * channel). A read timeout is not: the client is still there, saying nothing.
   *
   * @param failure what the job threw
   * @return true if the client went away
   */
  static boolean causedBy(Throwable failure) {
    int depth = 0; // a chain of causes can loop (a caused by b caused by a): look so deep at most
    for (Throwable t = failure; t != null && depth < MAX_DEPTH; t = t.getCause(), depth++) {
      if (t instanceof Failure) {
        return true;
      }
      if (t instanceof SocketException && !(t instanceof SocketTimeoutException)) {
        String message = String.valueOf(t.getMessage());
        if (message.startsWith("Connection reset") || message.startsWith("Broken pipe")) {
          return true;
        }
      }
    }
    return false;
  }
}
