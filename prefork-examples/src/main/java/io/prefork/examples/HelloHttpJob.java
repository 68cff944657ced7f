package io.prefork.examples;

import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * The smallest HTTP/1.0 server: reads one request (at most {@value #MAX_REQUEST} bytes) until its
 * blank line ({@code \r\n\r\n}, or {@code \n\n}) or until the client half-closes, answers {@code
 * hello\n} in one write and returns; the child then closes the connection.
 *
 * <p>It is benchmarked against a C server, so the hot path allocates nothing: each worker thread
 * reads into its own fixed buffer, the terminator is scanned for as bytes arrive, nothing is
 * decoded into strings and nothing is logged. The request's content is not looked at.
 */
public final class HelloHttpJob implements ChildJob {
  /** The most bytes read of one request; a longer request is answered after this many. */
  public static final int MAX_REQUEST = 4096;

  private static final byte[] RESPONSE =
      ("HTTP/1.0 200 OK\r\n"
              + "Content-Type: text/plain\r\n"
              + "Content-Length: 6\r\n"
              + "Connection: close\r\n"
              + "\r\n"
              + "hello\n")
          .getBytes(StandardCharsets.US_ASCII);

  // Per thread, not per instance: with threadsPerChild > 1 the workers share this job.
  private static final ThreadLocal<byte[]> BUFFER =
      ThreadLocal.withInitial(() -> new byte[MAX_REQUEST]);

  /** Creates the job; each child makes one, through this constructor, as {@link ChildJob} asks. */
  public HelloHttpJob() {}

  /** {@return the exact bytes of every response} */
  public static byte[] response() {
    return RESPONSE.clone();
  }

  @Override
  public void handle(Connection connection) throws IOException {
    try {
      readRequest(connection.input(), BUFFER.get());
    } catch (SocketTimeoutException e) {
      return; // no complete request within the read timeout: just close, as httpd does
    }
    connection.output().write(RESPONSE);
  }

  /** Reads until the end of the headers, end of input, or {@link #MAX_REQUEST} bytes. */
  private static void readRequest(InputStream in, byte[] buffer) throws IOException {
    int total = 0;
    // Line feeds seen since the last byte that was neither CR nor LF: two end the headers. Kept
    // across reads, so a terminator split over several packets is still found.
    int lineFeeds = 0;
    while (total < MAX_REQUEST) {
      int n = in.read(buffer, 0, MAX_REQUEST - total);
      if (n < 0) {
        return;
      }
      for (int i = 0; i < n; i++) {
        byte b = buffer[i];
        if (b == '\n') {
          if (++lineFeeds == 2) {
            return;
          }
        } else if (b != '\r') {
          lineFeeds = 0;
        }
      }
      total += n;
    }
  }

  /** {@return a GET of /: served with no effect, so each child warms up on it (ChildJob)} */
  @Override
  public byte[] warmUpRequest() {
    return HttpRequests.warmUpRequest();
  }
}
