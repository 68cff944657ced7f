package io.prefork.core;

import io.prefork.core.internal.os.Libc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;

/**
 * Test support: systemd's side of sd_notify, an AF_UNIX datagram socket bound to a path or an
 * abstract name ({@code @name}), that records every datagram it receives, each as its lines.
 */
final class NotifySocket implements AutoCloseable {
  private final String address;
  private final UnixDatagramChannel channel;
  private final List<List<String>> received = new ArrayList<>();

  private NotifySocket(String address, UnixDatagramChannel channel) {
    this.address = address;
    this.channel = channel;
  }

  /** Binds {@code address}: an absolute path, or {@code @name} for the abstract namespace. */
  static NotifySocket bind(String address) throws IOException {
    UnixDatagramChannel channel = UnixDatagramChannel.open();
    try {
      String raw = address.startsWith("@") ? "\0" + address.substring(1) : address;
      channel.bind(new UnixSocketAddress(raw));
      return new NotifySocket(address, channel);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The value for NOTIFY_SOCKET. */
  String address() {
    return address;
  }

  /** Every datagram received so far, in order, each as its lines. */
  synchronized List<List<String>> received() {
    return List.copyOf(received);
  }

  /**
   * Waits for a datagram received after the first {@code after} that holds {@code line}.
   *
   * @return its index in {@link #received()}
   * @throws AssertionError naming what came instead when the timeout passes
   */
  synchronized int await(String line, int after, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (int i = after; i < received.size(); i++) {
        if (received.get(i).contains(line)) {
          return i;
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "no datagram with "
                + line
                + " after #"
                + after
                + " within "
                + timeout.toSeconds()
                + " s; received: "
                + received);
      }
      receive(Math.max(1, left / 1_000_000));
    }
  }

  /** Receives what arrives within {@code millis} (at least one poll). */
  synchronized void drain(long millis) throws IOException {
    long deadline = System.nanoTime() + millis * 1_000_000;
    do {
      receive(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
    } while (System.nanoTime() < deadline);
  }

  /** Waits up to {@code millis} for one datagram and records it. */
  private void receive(long millis) throws IOException {
    byte[] pollfd = new byte[8]; // struct pollfd: int fd, short events, short revents
    int fd = channel.getFD();
    pollfd[0] = (byte) fd;
    pollfd[1] = (byte) (fd >>> 8);
    pollfd[2] = (byte) (fd >>> 16);
    pollfd[3] = (byte) (fd >>> 24);
    pollfd[4] = (byte) Libc.POLLIN;
    int ready = Libc.calls().poll(pollfd, 1, (int) Math.min(millis, 1_000));
    if (ready <= 0) {
      return;
    }
    ByteBuffer buffer = ByteBuffer.allocate(4096);
    channel.receive(buffer);
    String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    received.add(List.of(text.split("\n")));
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      if (address.startsWith("/")) {
        Files.deleteIfExists(Path.of(address));
      }
    }
  }
}
