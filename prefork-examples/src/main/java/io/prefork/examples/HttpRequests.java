package io.prefork.examples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * What {@link WaitJob} and {@link CpuJob} share with {@link HelloHttpJob}: read one request to its
 * blank line, and the HTTP/1.0 response they answer with.
 */
final class HttpRequests {
  /** The most bytes read of one request; a longer request is answered after this many. */
  static final int MAX_REQUEST = 4096;

  // Per thread, not per instance: with threadsPerChild > 1 the workers share one job.
  private static final ThreadLocal<byte[]> BUFFER =
      ThreadLocal.withInitial(() -> new byte[MAX_REQUEST]);

  private HttpRequests() {}

  /**
   * {@return the warm-up request of these jobs: a GET of /, HTTP/1.1, as curl sends it}
   *
   * <p>A new array each time: the caller owns it.
   */
  static byte[] warmUpRequest() {
    return "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: prefork-warm-up\r\nAccept: */*\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Reads until the end of the headers ({@code \r\n\r\n} or {@code \n\n}, also when split over
   * several reads), end of input, or {@link #MAX_REQUEST} bytes. The content is not looked at.
   *
   * @param in the connection's input
   * @throws IOException as the stream throws it, a {@link java.net.SocketTimeoutException} included
   */
  static void readRequest(InputStream in) throws IOException {
    byte[] buffer = BUFFER.get();
    int total = 0;
    int lineFeeds = 0; // since the last byte that was neither CR nor LF: two end the headers
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

  /**
   * {@return an HTTP/1.0 200 response with this text/plain body, {@code Connection: close}}
   *
   * @param body the body, US-ASCII
   */
  static byte[] response(String body) {
    return ("HTTP/1.0 200 OK\r\n"
            + "Content-Type: text/plain\r\n"
            + "Content-Length: "
            + body.length()
            + "\r\n"
            + "Connection: close\r\n"
            + "\r\n"
            + body)
        .getBytes(StandardCharsets.US_ASCII);
  }
}
