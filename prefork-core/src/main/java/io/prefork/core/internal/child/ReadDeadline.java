package io.prefork.core.internal.child;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The deadlines of one connection's reads and writes, and where a conversation may be cut when the
 * child stops. (Named for its first duty; benchmarks build it by this name.)
 *
 * <p>Deadline: reads must complete before it, and each write of the job moves it to {@code now +
 * timeout}. Trickling bytes do not move it, so a slow client cannot hold a worker past the timeout.
 * Reads block without a socket timeout (one {@code read} system call, as a C server makes; a timed
 * read costs a non-blocking try, a {@code poll} and another read whenever the data is not there
 * yet, which is every time on a keep-alive connection): the child's watch thread calls {@link
 * #expireIfOverdue} every {@link ChildRuntime#WATCH_MILLIS}, and ends a read past its deadline by
 * shutting the input down, so the timeout is kept within that much.
 *
 * <p>Write deadline: a write that makes no progress for the write timeout fails with {@link
 * SocketTimeoutException}. Progress is the peer acknowledging bytes ({@code tcpi_bytes_acked} of
 * {@code TCP_INFO}), so a client that reads slowly but steadily is never cut, and one that stops
 * reading (its receive window closes, and nothing more is acknowledged) is cut once the timeout
 * passed since the last acknowledgement. A write stays one {@code write} system call: it only
 * records its start in an atomic; the watch thread samples the acknowledged count of a write that
 * has been blocked for a while and, past the deadline, shuts the socket's output down, which ends
 * the blocked write (the job gets the timeout, and the worker is free again). Where the count
 * cannot be read (streams handed over to the channel, or no descriptor), the deadline counts from
 * the write's start.
 *
 * <p>Stopping: once the job has answered and the client has sent nothing since, the connection is
 * between requests (an idle keep-alive connection). If the child is stopping there, the next read
 * returns end-of-stream instead of waiting for a request that a stopping child should not take; a
 * read already blocked there is woken by {@link #cutIfIdle()}. A request that was already received,
 * or the first one, is always served.
 */
public final class ReadDeadline {
  private final Socket socket;
  private final long timeoutNanos;
  private final long writeTimeoutNanos;
  private final BooleanSupplier stopping;
  private final LongSupplier bytesAcked;
  private long deadlineNanos;
  private boolean answered;
  private volatile boolean waitingBetweenRequests;

  /**
   * The input was shut down by {@link #cutIfIdle} or {@link #expireIfOverdue}: later reads return
   * end-of-stream, as the channel's streams do after {@code shutdownInput} (a read on the bare
   * descriptor would still return bytes that arrive).
   */
  private volatile boolean inputCut;

  /**
   * The deadline of the read in progress, 0 when none, {@link #EXPIRED} once the watcher cut it.
   */
  private final AtomicLong reading = new AtomicLong();

  private static final long EXPIRED = Long.MIN_VALUE;

  /** The start of the write in progress (never 0), 0 when none, {@link #EXPIRED} once cut. */
  private final AtomicLong writing = new AtomicLong();

  /** A write timed out: the output is shut down, later writes time out at once. */
  private volatile boolean writeTimedOut;

  // The watch thread's own record of the write it looks at (no other thread touches these).
  private long watchedWrite;
  private long lastProgressNanos;
  private long lastAcked = -1;

  /** How long a write must have been blocked before the watch thread samples its progress. */
  static final long SAMPLE_AFTER_NANOS = 20_000_000L;

  /** Read and write timeouts alike. */
  public ReadDeadline(Socket socket, long timeoutMillis, BooleanSupplier stopping) {
    this(socket, timeoutMillis, timeoutMillis, stopping, () -> -1);
  }

  /**
   * @param bytesAcked the bytes the peer acknowledged so far, or -1 if unknown; called by the watch
   *     thread only
   */
  public ReadDeadline(
      Socket socket,
      long readTimeoutMillis,
      long writeTimeoutMillis,
      BooleanSupplier stopping,
      LongSupplier bytesAcked) {
    this.socket = socket;
    this.timeoutNanos = readTimeoutMillis * 1_000_000L;
    this.writeTimeoutNanos = writeTimeoutMillis * 1_000_000L;
    this.stopping = stopping;
    this.bytesAcked = bytesAcked;
    restart();
  }

  private void restart() {
    deadlineNanos = System.nanoTime() + timeoutNanos;
  }

  /**
   * Called by the stopping child from another thread: ends a read that waits between requests. The
   * flag is set before the child's stopping flag is read, and the child sets its flag before
   * calling this, so one of the two threads always sees the other.
   */
  void cutIfIdle() {
    if (waitingBetweenRequests) {
      inputCut = true;
      try {
        socket.shutdownInput();
      } catch (IOException e) {
        // already closed
      }
    }
  }

  private int beforeRead(InputStream in) throws IOException {
    if (answered) {
      waitingBetweenRequests = true;
      if (stopping.getAsBoolean() && in.available() == 0) {
        waitingBetweenRequests = false;
        return -1;
      }
    }
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      waitingBetweenRequests = false;
      throw new SocketTimeoutException(
          "read timeout of " + timeoutNanos / 1_000_000 + " ms passed without a complete request");
    }
    if (inputCut) {
      waitingBetweenRequests = false;
      return -1;
    }
    // Never 0, the "no read" mark (a deadline that happens to be 0 on the nanoTime clock).
    reading.set(deadlineNanos == 0 ? 1 : deadlineNanos);
    return 0;
  }

  /** After every read: a read the watcher cut is a timeout, whatever it returned. */
  private void readDone() throws SocketTimeoutException {
    waitingBetweenRequests = false;
    if (reading.getAndSet(0) == EXPIRED) {
      throw new SocketTimeoutException(
          "read timeout of " + timeoutNanos / 1_000_000 + " ms passed without a complete request");
    }
  }

  /**
   * Called by the child's watch thread: if a read is blocked past its deadline, or a write has made
   * no progress for the write timeout, ends it (the call then throws {@link
   * SocketTimeoutException}).
   */
  void expireIfOverdue(long nowNanos) {
    expireReadIfOverdue(nowNanos);
    expireWriteIfStuck(nowNanos);
  }

  private void expireWriteIfStuck(long nowNanos) {
    long start = writing.get();
    if (start == 0 || start == EXPIRED) {
      watchedWrite = 0;
      return;
    }
    if (start != watchedWrite) {
      watchedWrite = start;
      lastProgressNanos = start;
      lastAcked = -1;
    }
    if (nowNanos - start < SAMPLE_AFTER_NANOS) {
      return; // most writes are done long before: no need to look
    }
    long acked = bytesAcked.getAsLong();
    if (acked >= 0) {
      if (lastAcked >= 0 && acked != lastAcked) {
        lastProgressNanos = nowNanos;
      }
      lastAcked = acked;
    }
    if (nowNanos - lastProgressNanos >= writeTimeoutNanos
        && writing.compareAndSet(start, EXPIRED)) {
      try {
        socket.shutdownOutput(); // the blocked write fails (EPIPE); writeDone says why
      } catch (IOException e) {
        // already closed
      }
    }
  }

  private void beforeWrite() throws SocketTimeoutException {
    if (writeTimedOut) {
      throw writeTimeout();
    }
    long now = System.nanoTime();
    writing.set(now == 0 || now == EXPIRED ? 1 : now); // never the "no write" or "cut" marks
  }

  /** After every write: a write the watcher cut is a timeout, whatever it returned. */
  private void writeDone() throws SocketTimeoutException {
    if (writing.getAndSet(0) == EXPIRED) {
      writeTimedOut = true;
      throw writeTimeout();
    }
  }

  private SocketTimeoutException writeTimeout() {
    return new SocketTimeoutException(
        "write timeout of "
            + writeTimeoutNanos / 1_000_000
            + " ms passed without progress: the client does not read");
  }

  private void expireReadIfOverdue(long nowNanos) {
    long deadline = reading.get();
    if (deadline != 0 && deadline != EXPIRED && nowNanos - deadline >= 0) {
      if (reading.compareAndSet(deadline, EXPIRED)) {
        inputCut = true;
        try {
          socket.shutdownInput();
        } catch (IOException e) {
          // already closed
        }
      }
    }
  }

  private int afterRead(int n) {
    waitingBetweenRequests = false;
    if (n > 0) {
      answered = false;
    }
    return n;
  }

  public InputStream input(InputStream in) {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        if (beforeRead(in) < 0) {
          return -1;
        }
        int b;
        try {
          b = in.read();
        } finally {
          readDone();
        }
        if (b >= 0) {
          answered = false;
        }
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        if (beforeRead(in) < 0) {
          return -1;
        }
        int n;
        try {
          n = in.read(b, off, len);
        } finally {
          readDone();
        }
        return afterRead(n);
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

  public OutputStream output(OutputStream out) {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        beforeWrite();
        try {
          out.write(b);
        } finally {
          writeDone();
        }
        wrote();
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        beforeWrite();
        try {
          out.write(b, off, len);
        } finally {
          writeDone();
        }
        wrote();
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

  private void wrote() {
    answered = true;
    restart();
  }
}
