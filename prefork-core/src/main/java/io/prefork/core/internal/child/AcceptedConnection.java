package io.prefork.core.internal.child;

import io.prefork.core.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.function.BooleanSupplier;

/**
 * A connection a worker accepted, with its read deadline. Its streams read and write the socket's
 * descriptor directly ({@link SocketFdStreams}) where the JDK lets us, else they are the channel's
 * socket streams.
 */
public final class AcceptedConnection implements Connection, AutoCloseable {
  private final SocketChannel channel;
  private final ReadDeadline deadline;
  private final SocketFdStreams fdStreams;
  private InputStream input;
  private OutputStream output;

  /** Read and write timeouts alike. */
  public AcceptedConnection(
      SocketChannel channel, long readTimeoutMillis, BooleanSupplier stopping) {
    this(channel, readTimeoutMillis, readTimeoutMillis, stopping);
  }

  public AcceptedConnection(
      SocketChannel channel,
      long readTimeoutMillis,
      long writeTimeoutMillis,
      BooleanSupplier stopping) {
    this.channel = channel;
    this.fdStreams = SocketFdStreams.of(channel);
    SocketFdStreams streams = fdStreams;
    this.deadline =
        new ReadDeadline(
            channel.socket(),
            readTimeoutMillis,
            writeTimeoutMillis,
            stopping,
            streams == null ? () -> -1 : streams::bytesAcked);
  }

  /** {@return whether the streams read and write the descriptor, not the channel} */
  public boolean streamsOnDescriptor() {
    return fdStreams != null && !fdStreams.handedOver();
  }

  /**
   * Closes the connection; the streams fail from now on. With streams on the descriptor they close
   * the channel, once no read or write of another thread is still on it. Idempotent.
   */
  @Override
  public void close() {
    if (fdStreams != null) {
      fdStreams.close();
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // closing a socket fails only if it is already gone
    }
  }

  /** {@return the streams on the descriptor, or null: for tests} */
  SocketFdStreams fdStreams() {
    return fdStreams;
  }

  /** From the child's watch thread: ends a read past its deadline, or a write stuck too long. */
  void expireIfOverdue(long nowNanos) {
    deadline.expireIfOverdue(nowNanos);
  }

  /** The child is stopping: end the conversation if it waits between requests. */
  void cutIfIdle() {
    deadline.cutIfIdle();
  }

  @Override
  public InputStream input() {
    if (input == null) {
      try {
        input =
            deadline.input(
                fdStreams != null ? fdStreams.input() : channel.socket().getInputStream());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return input;
  }

  @Override
  public OutputStream output() {
    if (output == null) {
      try {
        output =
            deadline.output(
                fdStreams != null ? fdStreams.output() : channel.socket().getOutputStream());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return output;
  }

  @Override
  public SocketChannel channel() {
    if (fdStreams != null) {
      fdStreams.handOverToChannel();
    }
    return channel;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return (InetSocketAddress) channel.socket().getRemoteSocketAddress();
  }

  @Override
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.socket().getLocalSocketAddress();
  }
}
