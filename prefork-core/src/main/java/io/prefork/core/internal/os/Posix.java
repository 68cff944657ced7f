package io.prefork.core.internal.os;

/**
 * The process calls the master makes on its children, with the signatures jnr-posix gave them (the
 * master's supervision code calls these), on prefork's one binding ({@link Libc}). They return what
 * the system call returns and never throw: {@code -1} means failure, as in C, since the master
 * decides per call what a failure means (ECHILD from {@code waitpid} is a child someone else
 * reaped; a signal to a child that is already a zombie is harmless).
 */
public final class Posix {
  static final int SIGHUP = 1;
  static final int SIGINT = 2;
  public static final int SIGQUIT = 3;
  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;
  public static final int WNOHANG = 1;

  private Posix() {}

  /**
   * kill(2).
   *
   * @return 0, or -1 if the signal could not be sent
   */
  public static int kill(int pid, int signal) {
    return Libc.calls().kill(pid, signal);
  }

  /**
   * waitpid(2), retried when a signal interrupts it.
   *
   * @param status receives the wait status in {@code status[0]}
   * @return the pid reaped, 0 with {@link #WNOHANG} while the child runs, -1 on error (ECHILD: not
   *     a child of this process, or already reaped)
   */
  public static int waitpid(int pid, int[] status, int flags) {
    while (true) {
      int r = Libc.calls().waitpid(pid, status, flags);
      if (r >= 0 || Libc.errno() != Libc.EINTR) {
        return r;
      }
    }
  }

  /** {@return this process's effective user id} */
  public static int geteuid() {
    return Libc.geteuid();
  }
}
