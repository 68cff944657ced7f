package io.prefork.core.internal.child;

import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An accepted connection's streams straight on its file descriptor: each read or write is one
 * {@code read(2)} or {@code write(2)} through {@link FileInputStream} and {@link FileOutputStream}.
 *
 * <p>Why: the socket streams of a {@link SocketChannel} go through the channel's lock, its
 * interruptible begin/end bookkeeping, a thread-local temporary direct buffer and a copy on every
 * call. On a keep-alive connection (one small read and one small write per request) that was 1.8 µs
 * of user time per request against 1.1 µs this way (the C original: 0.7 µs); see
 * docs/performance.md.
 *
 * <p>Safety: the descriptor's number is reused by the next accept once the channel closes, so a
 * read or write must never reach it after the channel closed, and closing must wake a thread
 * blocked in one. Both hold because the job never closes the channel behind these streams: it
 * closes the connection through {@link #close()} (closing either stream, or the worker after the
 * job returned), and a job that asks for the channel gets the streams handed over to it first
 * ({@link #handOverToChannel()}: from then on they are the channel's own socket streams). Each call
 * registers itself in {@link #state}. {@code close()} closes the channel at once if no call is in
 * progress; otherwise it shuts the socket down, which ends those calls (a blocked read gets
 * end-of-stream, a blocked write an error, one about to start finds the socket shut), and the last
 * of them to leave closes the channel. Until then the number stays taken. The channel's {@link
 * FileDescriptor} is never closed by the streams themselves.
 *
 * <p>Differences from the JDK's socket streams: a call blocked here is not ended by {@link
 * Thread#interrupt()} (the read deadline, closing, or a stopping child end it); errors are {@link
 * SocketException}s carrying the system's message ("Connection reset by peer"). Reads ask for at
 * most {@value #MOST_PER_CALL} bytes and writes go out in pieces of that size: above 8 KiB the
 * JDK's native code allocates a buffer for each call, and above 128 KiB glibc's malloc maps fresh
 * pages for it every time; 64 KiB keeps that a cheap heap allocation while one call still moves
 * plenty.
 */
public final class SocketFdStreams {
  static final int MOST_PER_CALL = 64 * 1024;

  /** {@link #CLOSED}, {@link #VIA_CHANNEL}, and above them the calls in progress. */
  private final AtomicInteger state = new AtomicInteger();

  private static final int CLOSED = 1;
  private static final int VIA_CHANNEL = 2;
  private static final int CALL = 4;

  private final SocketChannel channel;
  private final int fdVal; // -1 if unknown
  private final FileInputStream in;
  private final FileOutputStream out;
  private volatile InputStream channelIn;
  private volatile OutputStream channelOut;

  private SocketFdStreams(SocketChannel channel, FileDescriptor fd, int fdVal) {
    this.channel = channel;
    this.fdVal = fdVal;
    this.in = new FileInputStream(fd);
    this.out = new FileOutputStream(fd);
  }

  /**
   * The streams of {@code channel}, or null when its descriptor cannot be reached (a JDK without
   * {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}, which the children are given): the caller
   * then uses the channel's own socket streams.
   *
   * @param channel an accepted, blocking channel
   * @return the streams, or null
   */
  static SocketFdStreams of(SocketChannel channel) {
    FileDescriptor fd = ChannelFds.descriptor(channel);
    return fd == null || !fd.valid()
        ? null
        : new SocketFdStreams(channel, fd, ChannelFds.of(channel));
  }

  /** Offset of {@code tcpi_bytes_acked} (u64) in Linux's {@code struct tcp_info}. */
  private static final int TCPI_BYTES_ACKED = 120;

  /**
   * The bytes the peer has acknowledged ({@code TCP_INFO}), or -1 if unknown: the streams were
   * handed over to the channel or closed, or the kernel does not say. For the watch thread, which
   * tells a write that is slow from one that is stuck. The descriptor is held (as by a read or
   * write) while the kernel is asked, so its number cannot be reused meanwhile.
   */
  long bytesAcked() {
    if (fdVal < 0) {
      return -1;
    }
    try {
      if (!enter()) {
        return -1;
      }
    } catch (SocketException closed) {
      return -1;
    }
    try {
      byte[] info = new byte[TCPI_BYTES_ACKED + 8];
      int n = Libc.getsockopt(fdVal, Libc.IPPROTO_TCP, Libc.TCP_INFO, info, "TCP_INFO");
      if (n < info.length) {
        return -1; // a kernel before 4.1
      }
      long acked = 0;
      for (int i = 7; i >= 0; i--) {
        acked = acked << 8 | (info[TCPI_BYTES_ACKED + i] & 0xff);
      }
      return acked;
    } catch (OsException e) {
      return -1;
    } finally {
      leave();
    }
  }

  InputStream input() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1]; // as the JDK's socket streams do; one read(2) either way
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
          return 0;
        }
        if (!enter()) {
          return channelIn.read(b, off, len);
        }
        try {
          return in.read(b, off, Math.min(len, MOST_PER_CALL));
        } catch (IOException e) {
          throw failure(e);
        } finally {
          leave();
        }
      }

      @Override
      public int available() throws IOException {
        if (!enter()) {
          return channelIn.available();
        }
        try {
          return in.available();
        } catch (IOException e) {
          throw failure(e);
        } finally {
          leave();
        }
      }

      @Override
      public void close() {
        SocketFdStreams.this.close(); // as a socket's streams do: the whole connection
      }
    };
  }

  OutputStream output() {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (!enter()) {
          channelOut.write(b, off, len);
          return;
        }
        try {
          while (len > 0) {
            int n = Math.min(len, MOST_PER_CALL);
            out.write(b, off, n);
            off += n;
            len -= n;
          }
        } catch (IOException e) {
          throw failure(e);
        } finally {
          leave();
        }
      }

      @Override
      public void close() {
        SocketFdStreams.this.close(); // as a socket's streams do: the whole connection
      }
    };
  }

  /**
   * Registers a call on the descriptor: true if it may go ahead, false if the streams were handed
   * over to the channel (the caller uses the channel's stream instead).
   */
  boolean enter() throws SocketException {
    int s = state.getAndAdd(CALL);
    if ((s & (CLOSED | VIA_CHANNEL)) == 0) {
      return true;
    }
    leave();
    if ((s & CLOSED) != 0) {
      throw new SocketException("Socket closed");
    }
    return false;
  }

  /** Ends a call; the last call to leave a closed connection closes its channel. */
  void leave() {
    int s = state.addAndGet(-CALL);
    if (s < CALL && (s & CLOSED) != 0) {
      closeChannel();
    }
  }

  /**
   * As the JDK's socket streams throw: a {@link SocketException}, whose message is the system's; a
   * {@link ClientGone.Failure} if the connection is closed by now (the client reset it). Called
   * inside the failed call, so the descriptor is still this connection's.
   */
  private SocketException failure(IOException e) {
    SocketException wrapped =
        tcpState() == TCP_CLOSE
            ? new ClientGone.Failure(e.getMessage())
            : e instanceof SocketException ? null : new SocketException(e.getMessage());
    if (wrapped == null) {
      return (SocketException) e;
    }
    wrapped.initCause(e);
    return wrapped;
  }

  /** Linux's {@code TCP_CLOSE}, the state of a connection the peer reset. */
  static final int TCP_CLOSE = 7;

  /** {@code tcpi_state} ({@code TCP_INFO}'s first byte), or -1 if unknown. */
  int tcpState() {
    if (fdVal < 0) {
      return -1;
    }
    try {
      byte[] state = new byte[1]; // the kernel copies as much of tcp_info as asked for
      return Libc.getsockopt(fdVal, Libc.IPPROTO_TCP, Libc.TCP_INFO, state, "TCP_INFO") == 1
          ? state[0] & 0xff
          : -1;
    } catch (OsException e) {
      return -1;
    }
  }

  /** {@return how many reads and writes on the descriptor are in progress} */
  int callsInProgress() {
    return state.get() / CALL;
  }

  boolean handedOver() {
    return (state.get() & VIA_CHANNEL) != 0;
  }

  /**
   * The job asked for the channel: from now on the streams are the channel's own, so that closing
   * the channel ends them as the JDK does (a thread blocked in a read on the descriptor would not
   * be woken by it, and the descriptor's number may be reused). Idempotent.
   *
   * @throws IllegalStateException if another thread is inside a read or write of these streams
   */
  void handOverToChannel() {
    if ((state.get() & (CLOSED | VIA_CHANNEL)) != 0) {
      return;
    }
    InputStream channelInput;
    try {
      channelInput = channel.socket().getInputStream();
    } catch (IOException e) {
      channelInput = Channels.newInputStream(channel); // the input is shut down: this ends at once
    }
    OutputStream channelOutput;
    try {
      channelOutput = channel.socket().getOutputStream();
    } catch (IOException e) {
      channelOutput = Channels.newOutputStream(channel);
    }
    channelIn = channelInput;
    channelOut = channelOutput;
    int s;
    do {
      s = state.get();
      if ((s & (CLOSED | VIA_CHANNEL)) != 0) {
        return;
      }
      if (s >= CALL) {
        throw new IllegalStateException(
            "Connection.channel() was asked for while another thread reads or writes the"
                + " connection's input() or output(); ask for the channel before handing the"
                + " streams to another thread");
      }
    } while (!state.compareAndSet(s, s | VIA_CHANNEL));
  }

  /**
   * Closes the connection: the channel at once if no call is in progress, else the socket is shut
   * down (ending those calls) and the last of them to leave closes the channel. No call on the
   * descriptor starts after this. Idempotent; never waits.
   */
  void close() {
    int s;
    do {
      s = state.get();
      if ((s & CLOSED) != 0) {
        return;
      }
    } while (!state.compareAndSet(s, s | CLOSED));
    if (s < CALL) {
      closeChannel(); // the usual case: the worker closes after its job returned
    } else {
      shutDown(); // a call in another thread (a job that handed its streams to one)
    }
  }

  private void shutDown() {
    try {
      channel.shutdownInput();
    } catch (IOException e) {
      // closed meanwhile by the last call to leave, or not connected: nothing blocks on it
    }
    try {
      channel.shutdownOutput();
    } catch (IOException e) {
      // same
    }
  }

  private void closeChannel() {
    try {
      channel.close();
    } catch (IOException e) {
      // closing a socket fails only if it is already gone
    }
  }
}
