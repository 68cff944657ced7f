package io.prefork.examples;

import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Echoes each line back as soon as it is complete, until the client closes; a last line without a
 * line feed is echoed at the end. A line longer than the buffer ({@value #BUFFER_SIZE} bytes) is
 * echoed in pieces. A client silent for the read timeout is disconnected.
 */
public final class EchoJob implements ChildJob {
  static final int BUFFER_SIZE = 8192;

  // Per thread, not per instance: with threadsPerChild > 1 the workers share this job.
  private static final ThreadLocal<byte[]> BUFFER =
      ThreadLocal.withInitial(() -> new byte[BUFFER_SIZE]);

  /** Creates the job; each child makes one, through this constructor, as {@link ChildJob} asks. */
  public EchoJob() {}

  @Override
  public void handle(Connection connection) throws IOException {
    InputStream in = connection.input();
    OutputStream out = connection.output();
    byte[] buffer = BUFFER.get();
    int filled = 0;
    try {
      int n;
      while ((n = in.read(buffer, filled, buffer.length - filled)) >= 0) {
        int end = filled + n;
        int complete = lastLineFeed(buffer, filled, end) + 1;
        if (complete == 0 && end == buffer.length) {
          complete = end; // no line feed in a full buffer: send it on as a piece of a long line
        }
        if (complete > 0) {
          out.write(buffer, 0, complete);
          System.arraycopy(buffer, complete, buffer, 0, end - complete);
        }
        filled = end - complete;
      }
    } catch (SocketTimeoutException e) {
      return; // the client went quiet: the conversation is over
    }
    if (filled > 0) {
      out.write(buffer, 0, filled);
    }
  }

  /** The index of the last line feed in {@code buffer[from, to)}, or -1. */
  private static int lastLineFeed(byte[] buffer, int from, int to) {
    for (int i = to - 1; i >= from; i--) {
      if (buffer[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** {@return a line: echoed with no effect, so each child warms up on it (ChildJob)} */
  @Override
  public byte[] warmUpRequest() {
    return "warm-up\n".getBytes(StandardCharsets.US_ASCII);
  }
}
