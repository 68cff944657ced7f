package io.prefork.shm;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import java.nio.charset.StandardCharsets;

/**
 * The System V shared memory calls of libc, called through jffi's raw invoker.
 *
 * <p>Not through jnr-ffi's generated interface: loading jnr-ffi (its type mappers, proxies and ASM
 * stub generation) cost a {@code ctl} run, or a child's start, about 100-250 ms and 10-25 MB for
 * these six calls. jffi is the layer jnr-ffi calls into; here every function is called with 64-bit
 * integer arguments and result (x86-64's registers), and a result of C type {@code int} is read
 * from its low 32 bits.
 */
final class Native {

  /** The six functions, each resolved once from the process's own symbols (libc is loaded). */
  static final class LibC {
    private final Invoker invoker = Invoker.getInstance();
    private final CallContext withErrno = context(3, true);
    private final CallContext withErrno1 = context(1, true);
    private final CallContext plain1 = context(1, false);
    private final CallContext plain0 = context(0, false);
    private final long shmget;
    private final long shmat;
    private final long shmdt;
    private final long shmctl;
    private final long strerror;
    private final long geteuid;

    private LibC(Library libc) {
      shmget = symbol(libc, "shmget");
      shmat = symbol(libc, "shmat");
      shmdt = symbol(libc, "shmdt");
      shmctl = symbol(libc, "shmctl");
      strerror = symbol(libc, "strerror");
      geteuid = symbol(libc, "geteuid");
    }

    /** {@code int shmget(key_t key, size_t size, int shmflg)}; errno on -1. */
    int shmget(int key, long size, int shmflg) {
      return (int) invoker.invokeL3(withErrno, shmget, key, size, shmflg);
    }

    /** {@code void *shmat(int shmid, const void *shmaddr, int shmflg)}: the address, or -1. */
    long shmat(int shmid, long shmaddr, int shmflg) {
      return invoker.invokeL3(withErrno, shmat, shmid, shmaddr, shmflg);
    }

    /** {@code int shmdt(const void *shmaddr)}; errno on -1. */
    int shmdt(long shmaddr) {
      return (int) invoker.invokeL1(withErrno1, shmdt, shmaddr);
    }

    /** {@code int shmctl(int shmid, int cmd, struct shmid_ds *buf)}; buf is an address or 0. */
    int shmctl(int shmid, int cmd, long buf) {
      return (int) invoker.invokeL3(withErrno, shmctl, shmid, cmd, buf);
    }

    /** The C library's text for an errno value, or null. */
    String strerror(int errnum) {
      long text = invoker.invokeL1(plain1, strerror, errnum);
      if (text == 0) {
        return null;
      }
      return new String(
          MemoryIO.getInstance().getZeroTerminatedByteArray(text, 256), StandardCharsets.UTF_8);
    }

    /** {@code uid_t geteuid(void)}. */
    int geteuid() {
      return (int) invoker.invokeL0(plain0, geteuid);
    }

    private static CallContext context(int parameters, boolean saveErrno) {
      Type[] types = new Type[parameters];
      java.util.Arrays.fill(types, Type.SINT64);
      return CallContext.getCallContext(Type.SINT64, types, CallingConvention.DEFAULT, saveErrno);
    }

    private static long symbol(Library libc, String name) {
      long address = libc.getSymbolAddress(name);
      if (address == 0) {
        throw new UnsatisfiedLinkError("libc has no " + name + " (" + Library.getLastError() + ")");
      }
      return address;
    }
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
      // The JVM's own process already has libc loaded: its symbols are found without a path.
      return new LibC(Library.getDefault());
    }
  }

  static LibC libc() {
    return Holder.LIBC;
  }

  /** errno of the last failed call on this thread; read right after the call. */
  static int lastErrno() {
    return LastError.getInstance().get();
  }

  static String errnoName(int errno) {
    return Errnos.name(errno);
  }

  static String errnoText(int errno) {
    String text = libc().strerror(errno);
    return text == null ? "unknown error" : text;
  }
}
