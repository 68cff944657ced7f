package io.prefork.core.internal.os;

import jnr.constants.platform.Errno;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The socket calls of libc that jnr-posix does not bind, through jnr-ffi. Linux x86-64 values of
 * the constants, like the rest of prefork.
 */
public final class Libc {
  /** Public only so jnr-ffi's generated stub can implement it; one line per C function. */
  public interface Calls {
    @SaveError
    int socket(int domain, int type, int protocol);

    @SaveError
    int setsockopt(int fd, int level, int optname, @In int[] optval, int optlen);

    @SaveError
    int bind(int fd, @In byte[] addr, int addrlen);

    @SaveError
    int listen(int fd, int backlog);

    @SaveError
    int getsockname(int fd, @Out byte[] addr, @In @Out int[] addrlen);

    @SaveError
    int getsockopt(int fd, int level, int optname, @Out byte[] optval, @In @Out int[] optlen);

    @SaveError
    int close(int fd);

    @SaveError
    int fcntl(int fd, int cmd, int arg);

    @SaveError
    int pipe2(@Out int[] fds, int flags);

    /** {@code fds} holds {@code struct pollfd} records: int fd, short events, short revents. */
    @SaveError
    int poll(@In @Out byte[] fds, long nfds, int timeoutMillis);

    @SaveError
    long read(int fd, @Out byte[] buf, long count);

    @IgnoreError
    String strerror(int errnum);
  }

  public static final int AF_INET = 2;
  public static final int AF_INET6 = 10;
  public static final int SOCK_STREAM = 1;
  public static final int SOCK_CLOEXEC = 0x80000;
  public static final int SOL_SOCKET = 1;
  public static final int SO_REUSEADDR = 2;
  static final int SO_TYPE = 3;
  public static final int SO_ACCEPTCONN = 30;
  public static final int IPPROTO_TCP = 6;
  public static final int TCP_INFO = 11;
  static final int F_GETFD = 1;
  public static final int F_SETFD = 2;
  public static final int FD_CLOEXEC = 1;
  public static final int F_DUPFD_CLOEXEC = 1030;
  public static final int O_CLOEXEC = 0x80000;
  public static final short POLLIN = 0x1;

  private Libc() {}

  private static final class Holder {
    static final Calls CALLS = LibraryLoader.create(Calls.class).load("c");
    static final Runtime RUNTIME = Runtime.getRuntime(CALLS);
  }

  public static Calls calls() {
    return Holder.CALLS;
  }

  public static int errno() {
    return LastError.getLastError(Holder.RUNTIME);
  }

  /** errno as "EADDRINUSE (Address already in use)". */
  public static String describe(int errno) {
    Errno e = Errno.valueOf(errno);
    String name = e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name();
    return name + " (" + calls().strerror(errno) + ")";
  }

  public static boolean is(int errno, Errno expected) {
    return errno == expected.intValue();
  }
}
