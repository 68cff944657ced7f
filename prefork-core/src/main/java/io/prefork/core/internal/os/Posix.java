package io.prefork.core.internal.os;

import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/** jnr-posix, loaded once, in the master only (children never touch it: it is slow to load). */
public final class Posix {
  static final int SIGHUP = 1;
  static final int SIGINT = 2;
  public static final int SIGQUIT = 3;
  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;
  public static final int WNOHANG = 1;

  private Posix() {}

  private static final class Holder {
    static final POSIX POSIX = POSIXFactory.getNativePOSIX();
  }

  public static POSIX get() {
    return Holder.POSIX;
  }

  /** kill(2): 0, or -1 with errno set. */
  public static int kill(int pid, int signal) {
    return get().kill(pid, signal);
  }

  /** waitpid(2): the pid reaped, 0 with WNOHANG when it is still running, -1 on error. */
  public static int waitpid(int pid, int[] status, int flags) {
    return get().waitpid(pid, status, flags);
  }

  /** geteuid(2). */
  public static int geteuid() {
    return get().geteuid();
  }
}
