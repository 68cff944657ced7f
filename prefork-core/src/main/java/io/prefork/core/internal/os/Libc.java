package io.prefork.core.internal.os;

import jnr.constants.platform.Errno;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.byref.IntByReference;

/**
 * prefork-core's one binding to the C library: {@link Calls} declares every libc function it calls
 * (through jnr-ffi), and the static methods here are the facade the rest of the code uses. A facade
 * method returns what the call returns, retries {@code EINTR} where the call may be repeated, and
 * turns any other failure into an {@link OsException} whose message has one form: {@code "bind(fd
 * 7) failed: EADDRINUSE (Address already in use)"}.
 *
 * <p>Children load this class too ({@link #prctl}, {@link #getppid}, {@code TCP_INFO}): it must
 * stay cheap to load. jnr-ffi makes each function's invoker on its first call (children run with
 * {@code -Djnr.ffi.asm.enabled=false}), so the functions a child never calls cost it nothing, and
 * jnr-constants' tables are only touched to name an errno in a message.
 *
 * <p>Linux x86-64 values of the constants, like the rest of prefork.
 */
public final class Libc {
  /**
   * The functions a child calls: declared apart so that a child loads only these (jnr-ffi reads
   * every method of the interface it loads, about 8 ms of a child's start-up for the whole of
   * {@link Calls}). Public only so jnr-ffi's generated stub can implement it.
   */
  public interface ChildCalls {
    /** prctl(2) takes a variable argument list; every option prefork uses takes one argument. */
    @SaveError
    int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    @IgnoreError
    int getppid();

    @SaveError
    int getsockopt(int fd, int level, int optname, @Out byte[] optval, @In @Out int[] optlen);

    @IgnoreError
    String strerror(int errnum);
  }

  /**
   * Every libc function prefork-core calls, one line per C function: these and {@link ChildCalls}'.
   * Public only so jnr-ffi's generated stub can implement it.
   */
  public interface Calls extends ChildCalls {
    // Sockets
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
    long sendto(int fd, @In byte[] buf, long len, int flags, @In byte[] addr, int addrlen);

    // Descriptors and files
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

    @SaveError
    long pread(int fd, @Out byte[] buf, long count, long offset);

    @SaveError
    long pwrite(int fd, @In byte[] buf, long count, long offset);

    @SaveError
    int open(CharSequence path, int flags, int mode);

    @SaveError
    int dup2(int fd, int newFd);

    @SaveError
    int ftruncate(int fd, long length);

    @SaveError
    int flock(int fd, int operation);

    @SaveError
    int chdir(CharSequence path);

    // Processes
    @SaveError
    int kill(int pid, int signal);

    @SaveError
    int waitpid(int pid, @Out int[] status, int options);

    @IgnoreError
    int geteuid();

    @SaveError
    int setsid();

    // posix_spawn(3): these return the error number instead of setting errno.
    @IgnoreError
    int posix_spawnp(
        @Out IntByReference pid,
        @In CharSequence file,
        Pointer fileActions,
        Pointer attributes,
        @In CharSequence[] argv,
        @In CharSequence[] envp);

    @IgnoreError
    int posix_spawn_file_actions_init(Pointer fileActions);

    @IgnoreError
    int posix_spawn_file_actions_destroy(Pointer fileActions);

    @IgnoreError
    int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newFd);

    @IgnoreError
    int posix_spawn_file_actions_addclose(Pointer fileActions, int fd);

    /** glibc 2.34 and later. */
    @IgnoreError
    int posix_spawn_file_actions_addclosefrom_np(Pointer fileActions, int from);

    @IgnoreError
    int posix_spawnattr_init(Pointer attributes);

    @IgnoreError
    int posix_spawnattr_destroy(Pointer attributes);

    @IgnoreError
    int posix_spawnattr_setflags(Pointer attributes, short flags);

    @IgnoreError
    int posix_spawnattr_setsigmask(Pointer attributes, Pointer sigset);
  }

  public static final int AF_UNIX = 1;
  public static final int AF_INET = 2;
  public static final int AF_INET6 = 10;
  public static final int SOCK_STREAM = 1;
  public static final int SOCK_DGRAM = 2;
  public static final int SOCK_NONBLOCK = 0x800;
  public static final int SOCK_CLOEXEC = 0x80000;
  public static final int SOL_SOCKET = 1;
  public static final int SO_REUSEADDR = 2;
  static final int SO_TYPE = 3;
  public static final int SO_ACCEPTCONN = 30;
  public static final int IPPROTO_TCP = 6;
  public static final int TCP_INFO = 11;
  public static final int TCP_DEFER_ACCEPT = 9;
  public static final int MSG_NOSIGNAL = 0x4000;
  static final int F_GETFD = 1;
  public static final int F_SETFD = 2;
  public static final int FD_CLOEXEC = 1;
  public static final int F_DUPFD_CLOEXEC = 1030;
  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 1;
  public static final int O_RDWR = 2;
  public static final int O_CREAT = 0100;
  public static final int O_NOFOLLOW = 0400000;
  public static final int O_APPEND = 02000;
  public static final int O_CLOEXEC = 0x80000;
  public static final int LOCK_EX = 2;
  public static final int LOCK_NB = 4;
  public static final short POLLIN = 0x1;
  public static final int PR_SET_PDEATHSIG = 1;

  // errno values that callers tell apart
  public static final int ENOENT = 2;
  public static final int EINTR = 4;
  public static final int ECHILD = 10;
  public static final int EAGAIN = 11;
  public static final int EWOULDBLOCK = EAGAIN;
  public static final int EACCES = 13;
  public static final int EADDRINUSE = 98;
  public static final int EADDRNOTAVAIL = 99;

  /** sizeof(sun_path) on Linux. */
  public static final int SUN_PATH_BYTES = 108;

  private Libc() {}

  /** The whole binding, loaded on first use. */
  private static final class Holder {
    static final Calls CALLS = LibraryLoader.create(Calls.class).load("c");

    static {
      full = CALLS;
    }
  }

  /** A child's part of the binding, loaded on first use where the whole one is not. */
  private static final class ChildHolder {
    static final ChildCalls CALLS = LibraryLoader.create(ChildCalls.class).load("c");
  }

  /** The whole binding once loaded: then the child's calls go through it too. */
  private static volatile Calls full;

  /** The raw binding, for the few callers that need a call's own return convention. */
  public static Calls calls() {
    return Holder.CALLS;
  }

  /** The functions of {@link ChildCalls}, without loading the whole binding in a child. */
  static ChildCalls childCalls() {
    Calls f = full;
    return f != null ? f : ChildHolder.CALLS;
  }

  static Runtime runtime() {
    return Runtime.getSystemRuntime();
  }

  /** errno of this thread's last call declared {@code @SaveError}; read it right after the call. */
  public static int errno() {
    return LastError.getLastError(Runtime.getSystemRuntime());
  }

  /** errno as "EADDRINUSE (Address already in use)". */
  public static String describe(int errno) {
    Errno e = Errno.valueOf(errno);
    String name = e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name();
    return name + " (" + childCalls().strerror(errno) + ")";
  }

  /** The exception for {@code what} having failed with {@code errno}, in the one message form. */
  public static OsException failure(String what, int errno) {
    return new OsException(what + " failed: " + describe(errno), errno);
  }

  // Each facade method builds its message only once the call failed: a child's start-up makes
  // no string concatenation (the first one in a JVM costs milliseconds).

  // ---------------------------------------------------------------------------------------------
  // The facade

  public static int socket(int domain, int type, int protocol) {
    int fd = calls().socket(domain, type, protocol);
    if (fd < 0) {
      throw failure("socket()", errno());
    }
    return fd;
  }

  public static void setsockopt(int fd, int level, int option, int value, String name) {
    if (calls().setsockopt(fd, level, option, new int[] {value}, 4) != 0) {
      throw failure("setsockopt(fd " + fd + ", " + name + ")", errno());
    }
  }

  public static void bind(int fd, byte[] address) {
    if (calls().bind(fd, address, address.length) != 0) {
      throw failure("bind(fd " + fd + ")", errno());
    }
  }

  public static void listen(int fd, int backlog) {
    if (calls().listen(fd, backlog) != 0) {
      throw failure("listen(fd " + fd + ", backlog " + backlog + ")", errno());
    }
  }

  /** The socket's address, as a {@code struct sockaddr} of up to 28 bytes (IPv6). */
  public static byte[] getsockname(int fd) {
    byte[] sa = new byte[28];
    int[] len = {sa.length};
    if (calls().getsockname(fd, sa, len) != 0) {
      throw failure("getsockname(fd " + fd + ")", errno());
    }
    return sa;
  }

  /**
   * Reads a socket option into {@code value}.
   *
   * @return how many bytes the kernel wrote
   */
  public static int getsockopt(int fd, int level, int option, byte[] value, String name) {
    int[] len = {value.length};
    if (childCalls().getsockopt(fd, level, option, value, len) != 0) {
      throw failure("getsockopt(fd " + fd + ", " + name + ")", errno());
    }
    return len[0];
  }

  /** One datagram to {@code address}; returns the bytes sent. */
  public static long sendto(int fd, byte[] message, int flags, byte[] address, String where) {
    while (true) {
      long n = calls().sendto(fd, message, message.length, flags, address, address.length);
      if (n >= 0) {
        return n;
      }
      int errno = errno();
      if (errno != EINTR) {
        throw failure("sendto(" + where + ")", errno);
      }
    }
  }

  /** Closes a descriptor; a failure (it was not open) is ignored, as nothing can be done. */
  public static void close(int fd) {
    calls().close(fd); // never retried on EINTR: on Linux the descriptor is gone either way
  }

  public static int fcntl(int fd, int cmd, int arg) {
    int r = calls().fcntl(fd, cmd, arg);
    if (r < 0) {
      throw failure("fcntl(fd " + fd + ", " + cmd + ")", errno());
    }
    return r;
  }

  /** {read end, write end}. */
  public static int[] pipe2(int flags) {
    int[] fds = new int[2];
    if (calls().pipe2(fds, flags) != 0) {
      throw failure("pipe2()", errno());
    }
    return fds;
  }

  /** poll(2); an interrupted poll returns 0, as if nothing were ready. */
  public static int poll(byte[] fds, int count, int timeoutMillis) {
    int n = calls().poll(fds, count, timeoutMillis);
    if (n < 0) {
      int errno = errno();
      if (errno == EINTR) {
        return 0;
      }
      throw failure("poll(" + count + " fds)", errno);
    }
    return n;
  }

  /** read(2), retried on EINTR: the bytes read, 0 at end of file. */
  public static long read(int fd, byte[] buf) {
    while (true) {
      long n = calls().read(fd, buf, buf.length);
      if (n >= 0) {
        return n;
      }
      int errno = errno();
      if (errno != EINTR) {
        throw failure("read(fd " + fd + ")", errno);
      }
    }
  }

  /** Writes all of {@code bytes} at {@code offset} of a file. */
  public static void pwrite(int fd, byte[] bytes, long offset, String file) {
    byte[] rest = bytes;
    long at = offset;
    while (rest.length > 0) {
      long n = calls().pwrite(fd, rest, rest.length, at);
      if (n < 0) {
        int errno = errno();
        if (errno == EINTR) {
          continue;
        }
        throw failure("write(" + file + ")", errno);
      }
      rest = java.util.Arrays.copyOfRange(rest, (int) n, rest.length);
      at += n;
    }
  }

  public static int open(String path, int flags, int mode) {
    while (true) {
      int fd = calls().open(path, flags, mode);
      if (fd >= 0) {
        return fd;
      }
      int errno = errno();
      if (errno != EINTR) {
        throw failure("open(" + path + ")", errno);
      }
    }
  }

  public static void dup2(int fd, int newFd) {
    if (calls().dup2(fd, newFd) < 0) {
      throw failure("dup2(" + fd + ", " + newFd + ")", errno());
    }
  }

  public static void ftruncate(int fd, long length, String file) {
    if (calls().ftruncate(fd, length) != 0) {
      throw failure("ftruncate(" + file + ")", errno());
    }
  }

  /**
   * flock(2) with {@code LOCK_NB}: true if this open file now holds the lock, false if another one
   * does.
   */
  public static boolean tryFlock(int fd, int operation, String file) {
    while (true) {
      if (calls().flock(fd, operation | LOCK_NB) == 0) {
        return true;
      }
      int errno = errno();
      if (errno == EWOULDBLOCK) {
        return false;
      }
      if (errno != EINTR) {
        throw failure("flock(" + file + ")", errno);
      }
    }
  }

  public static void chdir(String path) {
    if (calls().chdir(path) != 0) {
      throw failure("chdir(" + path + ")", errno());
    }
  }

  public static int setsid() {
    int sid = calls().setsid();
    if (sid < 0) {
      throw failure("setsid()", errno());
    }
    return sid;
  }

  public static int getppid() {
    return childCalls().getppid();
  }

  public static int geteuid() {
    return calls().geteuid();
  }

  /** prctl(2) with one argument, e.g. {@code PR_SET_PDEATHSIG}. */
  public static void prctl(int option, long argument, String name) {
    if (childCalls().prctl(option, argument, 0, 0, 0) != 0) {
      throw failure("prctl(" + name + ")", errno());
    }
  }

  /**
   * A {@code struct sockaddr_un} for {@code target}, an absolute path or an abstract name written
   * with a leading {@code @} (systemd's notation), sized as {@code sd_notify} sizes it: the path
   * with its terminating NUL, the abstract name without one. Null if it is neither, or does not fit
   * {@code sun_path}.
   */
  public static byte[] unixAddress(String target) {
    boolean abstractName = target.startsWith("@");
    if (!abstractName && !target.startsWith("/")) {
      return null;
    }
    byte[] name = target.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    // A path needs room for its NUL; an abstract name's first byte (the '@') becomes the NUL.
    if (name.length > (abstractName ? SUN_PATH_BYTES : SUN_PATH_BYTES - 1)) {
      return null;
    }
    if (!abstractName) {
      for (byte b : name) {
        if (b == 0) {
          return null;
        }
      }
    }
    byte[] sa = new byte[2 + name.length + (abstractName ? 0 : 1)];
    sa[0] = (byte) AF_UNIX; // sun_family, host order (little-endian)
    System.arraycopy(name, 0, sa, 2, name.length);
    if (abstractName) {
      sa[2] = 0;
    }
    return sa;
  }
}
