package io.prefork.shm;

import jnr.constants.platform.Errno;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;

/** The System V shared memory calls of libc, bound once per JVM through jnr-ffi. */
final class Native {

  /**
   * One line per C function, as in jnr-posix. Public only because jnr-ffi's generated stubs must
   * implement it from their own class loader; the enclosing class keeps it out of the API.
   */
  public interface LibC {
    @SaveError
    int shmget(int key, @size_t long size, int shmflg);

    /** Returns the attached address, or -1 on failure. */
    @SaveError
    @intptr_t
    long shmat(int shmid, @intptr_t long shmaddr, int shmflg);

    @SaveError
    int shmdt(@intptr_t long shmaddr);

    @SaveError
    int shmctl(int shmid, int cmd, Pointer buf);

    @IgnoreError
    String strerror(int errnum);

    @IgnoreError
    int geteuid();
  }

  static final int IPC_CREAT = 01000;
  static final int IPC_EXCL = 02000;
  static final int IPC_RMID = 0;
  static final int IPC_STAT = 2;
  static final int SHM_RDONLY = 010000;

  /** Set in {@code shm_perm.mode} once IPC_RMID was called while processes are still attached. */
  static final int SHM_DEST = 01000;

  /**
   * {@code struct shmid_ds} on x86-64 Linux with glibc (measured: size 112). Other platforms are
   * refused by {@link #libc()} rather than misread.
   */
  static final int SHMID_DS_SIZE = 112;

  static final int SHMID_DS_UID = 4;
  static final int SHMID_DS_MODE = 20;
  static final int SHMID_DS_SEGSZ = 48;
  static final int SHMID_DS_ATIME = 56;
  static final int SHMID_DS_DTIME = 64;
  static final int SHMID_DS_CTIME = 72;
  static final int SHMID_DS_CPID = 80;
  static final int SHMID_DS_LPID = 84;
  static final int SHMID_DS_NATTCH = 88;

  private Native() {}

  private static final class Holder {
    static final LibC LIBC = load();
    static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private static LibC load() {
      String os = System.getProperty("os.name", "");
      String arch = System.getProperty("os.arch", "");
      if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
        throw new UnsupportedOperationException(
            "prefork-shm supports Linux on x86-64 only (this is "
                + os
                + " on "
                + arch
                + "): the layout of struct shmid_ds is only known there");
      }
      return LibraryLoader.create(LibC.class).load("c");
    }
  }

  static LibC libc() {
    return Holder.LIBC;
  }

  static Runtime runtime() {
    return Holder.RUNTIME;
  }

  /** errno of the last failed call on this thread; read right after the call. */
  static int lastErrno() {
    return LastError.getLastError(Holder.RUNTIME);
  }

  static String errnoName(int errno) {
    Errno e = Errno.valueOf(errno);
    return e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name();
  }

  static String errnoText(int errno) {
    String text = libc().strerror(errno);
    return text == null ? "unknown error" : text;
  }
}
