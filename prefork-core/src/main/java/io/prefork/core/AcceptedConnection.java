package io.prefork.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.function.BooleanSupplier;

/** A connection a worker accepted, with its read deadline. */
final class AcceptedConnection implements Connection {
  private final SocketChannel channel;
  private final ReadDeadline deadline;
  private InputStream input;
  private OutputStream output;

  AcceptedConnection(SocketChannel channel, long readTimeoutMillis, BooleanSupplier stopping) {
    this.channel = channel;
    this.deadline = new ReadDeadline(channel.socket(), readTimeoutMillis, stopping);
  }

  /** From the child's watch thread: ends a read blocked past its deadline. */
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
        input = deadline.input(channel.socket().getInputStream());
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
        output = deadline.output(channel.socket().getOutputStream());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return output;
  }

  @Override
  public SocketChannel channel() {
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
