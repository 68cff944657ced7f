package io.prefork.core.internal.master;

import io.prefork.core.PreforkException;
import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The master's listening TCP socket, made with libc calls so the master knows its descriptor
 * (children inherit it as their standard input) and can ask the kernel for its accept queue. It is
 * close-on-exec: no other program the application starts inherits it; only children spawned with an
 * explicit dup2 do.
 */
public final class ListenSocket implements AutoCloseable {
  private final int fd;
  private final InetAddress address;
  private final int port;
  private boolean closed;

  private ListenSocket(int fd, InetAddress address, int port) {
    this.fd = fd;
    this.address = address;
    this.port = port;
  }

  /**
   * Binds and listens.
   *
   * @throws PreforkException naming the address and port, and what to do, when it fails
   */
  static ListenSocket bind(InetAddress address, int port, int backlog) {
    boolean v6 = address instanceof Inet6Address;
    int fd =
        aboveStdio(
            Libc.socket(
                v6 ? Libc.AF_INET6 : Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0));
    try {
      // Restarting the server must not wait for old connections in TIME_WAIT.
      Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1, "SO_REUSEADDR");
      try {
        Libc.bind(fd, encode(address, port));
      } catch (OsException e) {
        throw new PreforkException(bindAdvice(address, port, e), e);
      }
      try {
        Libc.listen(fd, backlog);
      } catch (OsException e) {
        throw new PreforkException(where(address, port) + ": " + e.getMessage(), e);
      }
      return new ListenSocket(fd, address, decodePort(Libc.getsockname(fd)));
    } catch (RuntimeException e) {
      Libc.close(fd);
      throw e;
    }
  }

  /**
   * Adopts a listening socket this process inherited (systemd socket activation). It must be a TCP
   * socket in the listening state.
   */
  static ListenSocket adopt(int fd) {
    byte[] value = new byte[4];
    boolean listening;
    try {
      listening =
          Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_ACCEPTCONN, value, "SO_ACCEPTCONN") == 4
              && littleEndianInt(value, 0) == 1;
    } catch (OsException e) {
      listening = false; // ENOTSOCK, EBADF
    }
    if (!listening) {
      throw new PreforkException(
          "inherited file descriptor "
              + fd
              + " is not a listening socket: check the .socket unit (ListenStream=)");
    }
    byte[] sa = Libc.getsockname(fd);
    InetAddress address = decodeAddress(sa);
    if (address == null) {
      throw new PreforkException(
          "inherited file descriptor " + fd + " is not a TCP/IP socket (a unix socket?)");
    }
    // Keep it away from programs the application starts; children get it through dup2.
    Libc.fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC);
    return new ListenSocket(fd, address, decodePort(sa));
  }

  /**
   * Children receive the socket as fd 0 through dup2; if it were 0, 1 or 2 itself, dup2 would clash
   * with the child's standard streams. (Possible when the master runs with stdio closed.)
   */
  private static int aboveStdio(int fd) {
    if (fd > 2) {
      return fd;
    }
    try {
      return Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, 3);
    } finally {
      Libc.close(fd);
    }
  }

  int fd() {
    return fd;
  }

  /**
   * Lets the kernel hand a connection to {@code accept(2)} only once the client's first bytes
   * arrived ({@code TCP_DEFER_ACCEPT}), or after about {@code seconds} of silence; 0 turns it off.
   */
  void deferAccept(int seconds) {
    Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_DEFER_ACCEPT, seconds, "TCP_DEFER_ACCEPT");
  }

  /**
   * {@return the kernel's {@code TCP_DEFER_ACCEPT} of the socket, in seconds: the set value rounded
   * up to its SYN-ACK retransmission schedule (1, 3, 7, 15, 31... seconds)}
   */
  int deferAcceptSeconds() {
    byte[] value = new byte[4];
    Libc.getsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_DEFER_ACCEPT, value, "TCP_DEFER_ACCEPT");
    return littleEndianInt(value, 0);
  }

  InetAddress address() {
    return address;
  }

  int port() {
    return port;
  }

  /**
   * The accept queue as the kernel reports it ({@code TCP_INFO} on a listening socket: {@code
   * tcpi_unacked} is the queue's length, {@code tcpi_sacked} its limit), or null if unavailable.
   */
  synchronized int[] acceptQueue() {
    if (closed) {
      return null;
    }
    byte[] info = new byte[104];
    int[] len = {info.length};
    if (Libc.calls().getsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_INFO, info, len) != 0
        || len[0] < 32) {
      return null; // read every tick: a failure here is not worth an exception
    }
    return new int[] {littleEndianInt(info, 24), littleEndianInt(info, 28)};
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      Libc.close(fd);
    }
  }

  @Override
  public String toString() {
    return where(address, port);
  }

  public static String where(InetAddress address, int port) {
    String host = address.getHostAddress();
    return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
  }

  private static String bindAdvice(InetAddress address, int port, OsException e) {
    String where = where(address, port);
    return switch (e.errno()) {
      case Libc.EADDRINUSE ->
          "port "
              + port
              + " on "
              + address.getHostAddress()
              + " is already in use (EADDRINUSE): stop the program that listens there (ss -ltnp"
              + " 'sport = :"
              + port
              + "') or choose another port";
      case Libc.EACCES ->
          "binding "
              + where
              + " is not permitted (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE;"
              + " choose a port of 1024 or more";
      case Libc.EADDRNOTAVAIL ->
          "address "
              + address.getHostAddress()
              + " is not an address of this host (EADDRNOTAVAIL): bind 0.0.0.0, 127.0.0.1 or one of"
              + " this host's addresses";
      default -> where + ": " + e.getMessage();
    };
  }

  /** struct sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes). */
  static byte[] encode(InetAddress address, int port) {
    byte[] raw = address.getAddress();
    if (address instanceof Inet4Address) {
      byte[] sa = new byte[16];
      sa[0] = (byte) Libc.AF_INET; // sa_family, host order (little-endian)
      sa[2] = (byte) (port >>> 8); // sin_port, network order
      sa[3] = (byte) port;
      System.arraycopy(raw, 0, sa, 4, 4);
      return sa;
    }
    byte[] sa = new byte[28];
    sa[0] = (byte) Libc.AF_INET6;
    sa[2] = (byte) (port >>> 8);
    sa[3] = (byte) port;
    System.arraycopy(raw, 0, sa, 8, 16); // after sin6_flowinfo
    int scope = ((Inet6Address) address).getScopeId();
    sa[24] = (byte) scope;
    sa[25] = (byte) (scope >>> 8);
    sa[26] = (byte) (scope >>> 16);
    sa[27] = (byte) (scope >>> 24);
    return sa;
  }

  private static int decodePort(byte[] sa) {
    return ((sa[2] & 0xff) << 8) | (sa[3] & 0xff);
  }

  private static InetAddress decodeAddress(byte[] sa) {
    int family = (sa[0] & 0xff) | ((sa[1] & 0xff) << 8);
    try {
      if (family == Libc.AF_INET) {
        return InetAddress.getByAddress(java.util.Arrays.copyOfRange(sa, 4, 8));
      }
      if (family == Libc.AF_INET6) {
        return InetAddress.getByAddress(java.util.Arrays.copyOfRange(sa, 8, 24));
      }
    } catch (UnknownHostException e) {
      // not reachable for 4 or 16 bytes
    }
    return null;
  }

  private static int littleEndianInt(byte[] b, int offset) {
    return (b[offset] & 0xff)
        | (b[offset + 1] & 0xff) << 8
        | (b[offset + 2] & 0xff) << 16
        | (b[offset + 3] & 0xff) << 24;
  }
}
