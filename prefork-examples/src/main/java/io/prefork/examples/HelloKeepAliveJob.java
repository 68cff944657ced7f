package io.prefork.examples;

import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * The keep-alive variant of {@link HelloHttpJob}: answers {@code hello\n} to every request on the
 * connection, as HTTP/1.1, until the client closes, asks for {@code Connection: close}, or speaks
 * HTTP/1.0 without {@code Connection: keep-alive} (then it answers once more with {@code
 * Connection: close} and returns). Pipelined requests are answered in order. A request whose
 * headers do not end within {@value #MAX_REQUEST} bytes is answered and the connection closed.
 *
 * <p>The worker is held for the whole conversation; a stopping child ends it at the next request
 * boundary (the read returns end-of-stream), and a client silent for the read timeout is dropped.
 * Like {@link HelloHttpJob} the hot path allocates nothing.
 */
public final class HelloKeepAliveJob implements ChildJob {
  /** The most bytes of one request's headers. */
  public static final int MAX_REQUEST = 4096;

  private static final byte[] KEEP = response("keep-alive");
  private static final byte[] CLOSE = response("close");

  private static final byte[] CONNECTION = "connection:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CLOSE_TOKEN = "close".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEEP_TOKEN = "keep-alive".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HTTP10 = "HTTP/1.0".getBytes(StandardCharsets.US_ASCII);

  // Per thread, not per instance: with threadsPerChild > 1 the workers share this job.
  private static final ThreadLocal<byte[]> BUFFER =
      ThreadLocal.withInitial(() -> new byte[MAX_REQUEST]);

  /** Creates the job; each child makes one, through this constructor, as {@link ChildJob} asks. */
  public HelloKeepAliveJob() {}

  private static byte[] response(String connection) {
    return ("HTTP/1.1 200 OK\r\n"
            + "Content-Type: text/plain\r\n"
            + "Content-Length: 6\r\n"
            + "Connection: "
            + connection
            + "\r\n"
            + "\r\n"
            + "hello\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** {@return the exact bytes of a response that keeps the connection open} */
  public static byte[] keepAliveResponse() {
    return KEEP.clone();
  }

  /** {@return the exact bytes of the last response on a connection} */
  public static byte[] closeResponse() {
    return CLOSE.clone();
  }

  @Override
  public void handle(Connection connection) throws IOException {
    InputStream in = connection.input();
    OutputStream out = connection.output();
    byte[] buf = BUFFER.get();
    int have = 0;
    int scanned = 0;
    try {
      while (true) {
        int end = headerEnd(buf, scanned, have);
        if (end < 0) {
          if (have == buf.length) {
            out.write(CLOSE); // headers too long: answer and close, as the C original does
            return;
          }
          scanned = Math.max(0, have - 3);
          int n = in.read(buf, have, buf.length - have);
          if (n < 0) {
            return; // the client closed (between requests, or mid-request)
          }
          have += n;
          continue;
        }
        boolean keep = keepAlive(buf, end);
        out.write(keep ? KEEP : CLOSE);
        if (!keep) {
          return;
        }
        System.arraycopy(buf, end, buf, 0, have - end); // pipelined leftovers
        have -= end;
        scanned = 0;
      }
    } catch (SocketTimeoutException e) {
      // the client went quiet: the conversation is over
    }
  }

  /**
   * The index just past the blank line ending the headers ({@code \r\n\r\n} or {@code \n\n}) in
   * {@code buf[from, to)}, or -1.
   *
   * @param buf the bytes received
   * @param from where to start looking
   * @param to where to stop (exclusive)
   * @return the index after the headers' end, or -1 if they have not ended yet
   */
  public static int headerEnd(byte[] buf, int from, int to) {
    int lineFeeds = 0;
    for (int i = from; i < to; i++) {
      byte b = buf[i];
      if (b == '\n') {
        if (++lineFeeds == 2) {
          return i + 1;
        }
      } else if (b != '\r') {
        lineFeeds = 0;
      }
    }
    return -1;
  }

  /**
   * Whether the request in {@code buf[0, end)} lets the connection stay open: HTTP/1.1 unless it
   * says {@code Connection: close}; HTTP/1.0 only with {@code Connection: keep-alive}.
   *
   * @param buf the request's bytes
   * @param end the index just past its headers
   * @return true if the connection stays open after the answer
   */
  public static boolean keepAlive(byte[] buf, int end) {
    int lineEnd = indexOf(buf, (byte) '\n', 0, end);
    boolean http10 = lineEnd >= 0 && find(buf, HTTP10, 0, lineEnd, false) >= 0;
    int pos = lineEnd + 1;
    while (pos > 0 && pos < end) {
      int next = indexOf(buf, (byte) '\n', pos, end);
      int stop = next < 0 ? end : next;
      if (startsWithIgnoreCase(buf, pos, stop, CONNECTION)) {
        if (find(buf, CLOSE_TOKEN, pos + CONNECTION.length, stop, true) >= 0) {
          return false;
        }
        if (find(buf, KEEP_TOKEN, pos + CONNECTION.length, stop, true) >= 0) {
          return true;
        }
      }
      pos = next + 1;
    }
    return !http10;
  }

  private static int indexOf(byte[] buf, byte b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (buf[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private static boolean startsWithIgnoreCase(byte[] buf, int from, int to, byte[] lower) {
    if (to - from < lower.length) {
      return false;
    }
    for (int i = 0; i < lower.length; i++) {
      if (lowerCase(buf[from + i]) != lower[i]) {
        return false;
      }
    }
    return true;
  }

  private static int find(byte[] buf, byte[] what, int from, int to, boolean ignoreCase) {
    outer:
    for (int i = from; i + what.length <= to; i++) {
      for (int j = 0; j < what.length; j++) {
        byte b = ignoreCase ? lowerCase(buf[i + j]) : buf[i + j];
        if (b != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static byte lowerCase(byte b) {
    return b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
  }

  /**
   * {@return a GET of / that keeps the connection: the warm-up half-closes after it, so the next
   * read ends the conversation as a client's close does}
   */
  @Override
  public byte[] warmUpRequest() {
    return HttpRequests.warmUpRequest();
  }
}
