package io.prefork.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * The read timeout of one connection as a deadline: reads must complete before it, and each write
 * of the job moves it to {@code now + timeout}. Trickling bytes do not move it, so a slow client
 * cannot hold a worker past the timeout.
 */
final class ReadDeadline {
  private final Socket socket;
  private final long timeoutNanos;
  private long deadlineNanos;

  ReadDeadline(Socket socket, long timeoutMillis) {
    this.socket = socket;
    this.timeoutNanos = timeoutMillis * 1_000_000L;
    restart();
  }

  void restart() {
    deadlineNanos = System.nanoTime() + timeoutNanos;
  }

  /** Arms the socket's timeout with what is left, or fails if nothing is left. */
  void arm() throws IOException {
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException(
          "read timeout of " + timeoutNanos / 1_000_000 + " ms passed without a complete request");
    }
    socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
  }

  InputStream input(InputStream in) {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        arm();
        return in.read();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        arm();
        return in.read(b, off, len);
      }

      @Override
      public int available() throws IOException {
        return in.available();
      }

      @Override
      public void close() throws IOException {
        in.close();
      }
    };
  }

  OutputStream output(OutputStream out) {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        out.write(b);
        restart();
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        restart();
      }

      @Override
      public void flush() throws IOException {
        out.flush();
      }

      @Override
      public void close() throws IOException {
        out.close();
      }
    };
  }
}
