package io.prefork.shm;

import jnr.constants.platform.Errno;

/**
 * The errno values this module tells apart, as Linux defines them (the module runs on Linux x86-64
 * only, see {@link Native}). Plain constants: looking them up in jnr-constants loaded its platform
 * tables on every start of a child or a {@code ctl}.
 */
final class Errnos {
  static final int EPERM = 1;
  static final int ENOENT = 2;
  static final int ENOMEM = 12;
  static final int EACCES = 13;
  static final int EEXIST = 17;
  static final int EINVAL = 22;
  static final int ENOSPC = 28;
  static final int EIDRM = 43;

  private Errnos() {}

  /** The symbolic name, e.g. {@code "ENOENT"}, or {@code "errno N"} if the platform has none. */
  static String name(int errno) {
    switch (errno) {
      case EPERM:
        return "EPERM";
      case ENOENT:
        return "ENOENT";
      case ENOMEM:
        return "ENOMEM";
      case EACCES:
        return "EACCES";
      case EEXIST:
        return "EEXIST";
      case EINVAL:
        return "EINVAL";
      case ENOSPC:
        return "ENOSPC";
      case EIDRM:
        return "EIDRM";
      default:
        Errno e = Errno.valueOf(errno);
        return e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name();
    }
  }
}
