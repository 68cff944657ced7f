package io.prefork.shm;

import jnr.constants.platform.Errno;

/** The errno values this module tells apart, as the platform defines them. */
final class Errnos {
  static final int EPERM = Errno.EPERM.intValue();
  static final int ENOENT = Errno.ENOENT.intValue();
  static final int ENOMEM = Errno.ENOMEM.intValue();
  static final int EACCES = Errno.EACCES.intValue();
  static final int EEXIST = Errno.EEXIST.intValue();
  static final int EINVAL = Errno.EINVAL.intValue();
  static final int ENOSPC = Errno.ENOSPC.intValue();
  static final int EIDRM = Errno.EIDRM.intValue();

  private Errnos() {}
}
