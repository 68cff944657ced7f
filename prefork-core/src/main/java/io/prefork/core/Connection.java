package io.prefork.core;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;

/**
 * One accepted TCP connection, handed to {@link ChildJob#handle(Connection)}. The child closes it
 * after {@code handle} returns.
 *
 * <p>The read timeout applies to {@link #input()}: the client must send what the job waits for
 * within the timeout, counted from the accept or from the job's last write to {@link #output()},
 * whichever is later. Bytes trickling in do not extend it. A read past the deadline throws {@link
 * java.net.SocketTimeoutException}. Reading {@link #channel()} directly bypasses this timeout.
 */
public interface Connection {

  /** {@return the connection's input, with the read timeout applied} */
  InputStream input();

  /** {@return the connection's output; each write restarts the read deadline} */
  OutputStream output();

  /**
   * The underlying blocking channel, for jobs that want NIO buffers (no read timeout). Until a job
   * asks for it, {@link #input()} and {@link #output()} read and write the socket directly (one
   * system call each, cheaper than the channel's path); from then on they go through the channel,
   * so that closing it ends a read blocked in another thread, as the JDK's streams do. Ask for it
   * before handing the streams to another thread.
   *
   * @return the channel
   * @throws IllegalStateException if another thread is inside a read or write of {@link #input()}
   *     or {@link #output()} at that moment
   */
  SocketChannel channel();

  /** {@return the client's address} */
  InetSocketAddress remoteAddress();

  /** {@return the server's address this connection arrived at} */
  InetSocketAddress localAddress();
}
