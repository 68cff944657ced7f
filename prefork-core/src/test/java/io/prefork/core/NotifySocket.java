package io.prefork.core;

import io.prefork.core.internal.os.Libc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Test support: systemd's side of sd_notify, an AF_UNIX datagram socket bound to a path or an
 * abstract name ({@code @name}), that records every datagram it receives, each as its lines. Made
 * with the library's own libc binding (socket, bind, poll, read), as systemd would make it.
 */
final class NotifySocket implements AutoCloseable {
  private final String address;
  private final int fd;
  private final List<List<String>> received = new ArrayList<>();

  private NotifySocket(String address, int fd) {
    this.address = address;
    this.fd = fd;
  }

  /** Binds {@code address}: an absolute path, or {@code @name} for the abstract namespace. */
  static NotifySocket bind(String address) throws IOException {
    byte[] sa = Libc.unixAddress(address);
    if (sa == null) {
      throw new IOException("not an AF_UNIX address: " + address);
    }
    int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
    try {
      Libc.bind(fd, sa);
      return new NotifySocket(address, fd);
    } catch (RuntimeException e) {
      Libc.close(fd);
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
    pollfd[0] = (byte) fd;
    pollfd[1] = (byte) (fd >>> 8);
    pollfd[2] = (byte) (fd >>> 16);
    pollfd[3] = (byte) (fd >>> 24);
    pollfd[4] = (byte) Libc.POLLIN;
    int ready = Libc.poll(pollfd, 1, (int) Math.min(millis, 1_000));
    if (ready <= 0) {
      return;
    }
    byte[] buffer = new byte[4096];
    int n = (int) Libc.read(fd, buffer); // one datagram
    String text = new String(buffer, 0, n, StandardCharsets.UTF_8);
    received.add(List.of(text.split("\n")));
  }

  @Override
  public void close() throws IOException {
    try {
      Libc.close(fd);
    } finally {
      if (address.startsWith("/")) {
        Files.deleteIfExists(Path.of(address));
      }
    }
  }
}
