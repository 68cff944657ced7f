package io.prefork.core;

import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/** jnr-posix, loaded once, in the master only (children never touch it: it is slow to load). */
final class Posix {
  static final int SIGHUP = 1;
  static final int SIGINT = 2;
  static final int SIGQUIT = 3;
  static final int SIGKILL = 9;
  static final int SIGTERM = 15;
  static final int WNOHANG = 1;

  private Posix() {}

  private static final class Holder {
    static final POSIX POSIX = POSIXFactory.getNativePOSIX();
  }

  static POSIX get() {
    return Holder.POSIX;
  }
}
