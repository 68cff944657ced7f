package io.prefork.examples;

import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import java.io.IOException;
import java.net.SocketTimeoutException;

/**
 * A job that waits: reads one HTTP request, sleeps {@value #WAIT_MILLIS} ms (standing for a
 * database or remote call, during which the worker holds the connection and does nothing), then
 * answers {@code hello\n} as {@link HelloHttpJob} does and returns; the child closes the
 * connection. The same bytes as the C original's {@code ready_fork_block_sleep} ({@code
 * usleep(10000)} before its answer), for the workload suite (docs/performance.md, "Workload
 * suite"). {@code serve --job wait}.
 */
public final class WaitJob implements ChildJob {
  /** Made by each child through the public no-argument constructor (the ChildJob contract). */
  public WaitJob() {}

  /** How long each request waits before its answer. */
  public static final int WAIT_MILLIS = 10;

  private static final byte[] RESPONSE = HttpRequests.response("hello\n");

  @Override
  public void handle(Connection connection) throws IOException, InterruptedException {
    try {
      HttpRequests.readRequest(connection.input());
    } catch (SocketTimeoutException e) {
      return; // no complete request within the read timeout: just close
    }
    Thread.sleep(WAIT_MILLIS);
    connection.output().write(RESPONSE);
  }

  /** {@return a GET of /: served with no effect, so each child warms up on it (ChildJob)} */
  @Override
  public byte[] warmUpRequest() {
    return HttpRequests.warmUpRequest();
  }
}
