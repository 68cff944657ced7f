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
}
