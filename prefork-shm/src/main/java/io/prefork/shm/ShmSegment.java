package io.prefork.shm;

import com.kenai.jffi.MemoryIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One System V shared memory segment attached to this process: {@code shmget}, {@code shmat},
 * {@code shmctl} and {@code shmdt} with errors that say what to do.
 *
 * <p>Created segments are exclusive and mode 0600. Instances are thread-safe for {@link #stat()}
 * and idempotent for {@link #detach()}; reading and writing the memory is the caller's business
 * (see {@link SharedStatusTable}).
 */
public final class ShmSegment implements AutoCloseable {
  private static final int MODE_0600 = 0600;

  private final int key;
  private final int id;
  private final long address;
  private final long size;
  private final boolean readOnly;
  private volatile boolean attached = true;

  private ShmSegment(int key, int id, long address, long size, boolean readOnly) {
    this.key = key;
    this.id = id;
    this.address = address;
    this.size = size;
    this.readOnly = readOnly;
  }

  /**
   * Creates a new segment exclusively (IPC_CREAT | IPC_EXCL, mode 0600) and attaches it read-write.
   * The kernel zero-fills it.
   *
   * @param key the System V key
   * @param size the size in bytes, more than 0
   * @return the new segment; {@link #close()} detaches it, {@link #remove()} removes it
   * @throws ShmException with EEXIST when a segment with this key already exists
   * @throws IllegalArgumentException if {@code size} is 0 or less
   */
  public static ShmSegment create(int key, long size) {
    if (size <= 0) {
      throw new IllegalArgumentException("segment size must be > 0, was " + size);
    }
    Native.LibC c = Native.libc();
    int id = c.shmget(key, size, Native.IPC_CREAT | Native.IPC_EXCL | MODE_0600);
    if (id < 0) {
      int errno = Native.lastErrno();
      throw new ShmException(
          "shmget(IPC_CREAT|IPC_EXCL, 0600)", key, errno, createAdvice(key, errno));
    }
    try {
      return attachId(key, id, false);
    } catch (RuntimeException e) {
      // Never leave a segment behind that nobody attached.
      c.shmctl(id, Native.IPC_RMID, 0);
      throw e;
    }
  }

  /**
   * Attaches the existing segment with this key, read-only or read-write.
   *
   * @param key the System V key
   * @param readOnly true to attach with SHM_RDONLY, which needs read permission only
   * @return the attached segment; {@link #close()} detaches it
   * @throws ShmException with ENOENT when there is no such segment, EACCES when it is not ours
   */
  public static ShmSegment attach(int key, boolean readOnly) {
    int id = lookup(key, readOnly ? 0400 : MODE_0600);
    return attachId(key, id, readOnly);
  }

  /**
   * What the kernel says about the segment with this key, or empty when there is none.
   *
   * @param key the System V key
   * @return the segment's status, or empty if no segment has this key
   * @throws ShmException if the segment exists but can't be read (e.g. EACCES)
   */
  public static Optional<ShmStat> stat(int key) {
    int id = Native.libc().shmget(key, 0, 0);
    if (id < 0) {
      int errno = Native.lastErrno();
      if (errno == Errnos.ENOENT) {
        return Optional.empty();
      }
      throw new ShmException("shmget", key, errno, lookupAdvice(key, errno));
    }
    return Optional.of(statId(key, id));
  }

  /**
   * Removes the segment with this key (IPC_RMID): the kernel frees it once the last process
   * detaches. Returns false when there was no such segment.
   *
   * @param key the System V key
   * @return true if a segment was found and marked for removal, false if there was none
   * @throws ShmException if the removal is refused (e.g. EPERM: only the owner may remove it)
   */
  public static boolean remove(int key) {
    int id = Native.libc().shmget(key, 0, 0);
    if (id < 0) {
      int errno = Native.lastErrno();
      if (errno == Errnos.ENOENT) {
        return false;
      }
      throw new ShmException("shmget", key, errno, lookupAdvice(key, errno));
    }
    removeId(key, id);
    return true;
  }

  /**
   * The key this segment was found or created with.
   *
   * @return the System V key
   */
  public int key() {
    return key;
  }

  /**
   * The kernel's id of this segment.
   *
   * @return the shmid, as {@code ipcs -m} shows it
   */
  public int id() {
    return id;
  }

  /**
   * The address the segment is attached at in this process.
   *
   * @return the native address; not to be touched once the segment is detached
   */
  public long address() {
    return address;
  }

  /**
   * The segment's size in bytes.
   *
   * @return the size {@code shmctl(IPC_STAT)} reported when the segment was attached
   */
  public long size() {
    return size;
  }

  /**
   * True when attached with SHM_RDONLY: any write would crash the process.
   *
   * @return true for a read-only attachment
   */
  public boolean isReadOnly() {
    return readOnly;
  }

  /**
   * False once {@link #detach()} ran.
   *
   * @return true until {@link #detach()} or {@link #close()} is called
   */
  public boolean isAttached() {
    return attached;
  }

  /**
   * What the kernel says about this segment now.
   *
   * @return a fresh {@code shmctl(IPC_STAT)} result
   * @throws ShmException if {@code shmctl} fails, e.g. once the segment is gone
   */
  public ShmStat stat() {
    return statId(key, id);
  }

  /**
   * Marks the segment for removal (IPC_RMID). It disappears from {@code ipcs -m} under its key at
   * once, and the kernel frees it when the last process detaches.
   */
  public void remove() {
    removeId(key, id);
  }

  /** Detaches the segment from this process; later calls do nothing. */
  public synchronized void detach() {
    if (!attached) {
      return;
    }
    attached = false;
    if (Native.libc().shmdt(address) != 0) {
      int errno = Native.lastErrno();
      throw new ShmException("shmdt", key, errno, "the address was not attached");
    }
  }

  /** Same as {@link #detach()}. */
  @Override
  public void close() {
    detach();
  }

  @Override
  public String toString() {
    return "ShmSegment[key=" + ShmKeys.toHex(key) + ", id=" + id + ", size=" + size + "]";
  }

  private static int lookup(int key, int mode) {
    int id = Native.libc().shmget(key, 0, mode);
    if (id < 0) {
      int errno = Native.lastErrno();
      throw new ShmException("shmget", key, errno, lookupAdvice(key, errno));
    }
    return id;
  }

  private static ShmSegment attachId(int key, int id, boolean readOnly) {
    long address = Native.libc().shmat(id, 0, readOnly ? Native.SHM_RDONLY : 0);
    if (address == -1) {
      int errno = Native.lastErrno();
      throw new ShmException("shmat", key, errno, lookupAdvice(key, errno));
    }
    try {
      long size = statId(key, id).size();
      return new ShmSegment(key, id, address, size, readOnly);
    } catch (RuntimeException e) {
      Native.libc().shmdt(address);
      throw e;
    }
  }

  private static ShmStat statId(int key, int id) {
    MemoryIO memory = MemoryIO.getInstance();
    long buf = memory.allocateMemory(Native.SHMID_DS_SIZE, true);
    if (buf == 0) {
      throw new OutOfMemoryError("no native memory for a struct shmid_ds");
    }
    try {
      if (Native.libc().shmctl(id, Native.IPC_STAT, buf) != 0) {
        int errno = Native.lastErrno();
        throw new ShmException("shmctl(IPC_STAT)", key, errno, lookupAdvice(key, errno));
      }
      int mode = memory.getInt(buf + Native.SHMID_DS_MODE);
      return new ShmStat(
          memory.getInt(buf),
          id,
          memory.getInt(buf + Native.SHMID_DS_UID),
          mode & 0777,
          memory.getLong(buf + Native.SHMID_DS_SEGSZ),
          memory.getLong(buf + Native.SHMID_DS_NATTCH),
          memory.getInt(buf + Native.SHMID_DS_CPID),
          memory.getInt(buf + Native.SHMID_DS_LPID),
          (mode & Native.SHM_DEST) != 0,
          memory.getLong(buf + Native.SHMID_DS_CTIME));
    } finally {
      memory.freeMemory(buf);
    }
  }

  private static void removeId(int key, int id) {
    if (Native.libc().shmctl(id, Native.IPC_RMID, 0) != 0) {
      int errno = Native.lastErrno();
      if (errno == Errnos.EINVAL || errno == Errnos.EIDRM) {
        return; // already gone: removal is idempotent
      }
      throw new ShmException("shmctl(IPC_RMID)", key, errno, lookupAdvice(key, errno));
    }
  }

  private static String createAdvice(int key, int errno) {
    if (errno == Errnos.EEXIST) {
      return "a segment with key "
          + ShmKeys.toHex(key)
          + " already exists"
          + describeOwner(key)
          + "; choose another key, or remove it (ipcrm -M "
          + ShmKeys.toHex(key)
          + ") if you know it is unused";
    }
    if (errno == Errnos.EINVAL) {
      return "the size is outside the system's limits (see /proc/sys/kernel/shmmax and shmmin)";
    }
    if (errno == Errnos.ENOSPC || errno == Errnos.ENOMEM) {
      return "the system's shared memory limits are reached (see ipcs -m, /proc/sys/kernel/shmmni"
          + " and shmall)";
    }
    return lookupAdvice(key, errno);
  }

  private static String lookupAdvice(int key, int errno) {
    if (errno == Errnos.ENOENT) {
      return "no segment with key "
          + ShmKeys.toHex(key)
          + " exists: is the server running, and with this key?";
    }
    if (errno == Errnos.EACCES || errno == Errnos.EPERM) {
      return "permission denied: the segment"
          + describeOwner(key)
          + " is not accessible to uid "
          + Native.libc().geteuid()
          + "; run as the segment's owner";
    }
    if (errno == Errnos.EIDRM || errno == Errnos.EINVAL) {
      return "the segment was removed meanwhile: its server has stopped";
    }
    return "";
  }

  /** The owner and mode of the segment with this key, read from /proc (needs no permission). */
  static String describeOwner(int key) {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/sysvipc/shm"));
      for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        String[] f = line.trim().split("\\s+");
        // key shmid perms size cpid lpid nattch uid gid cuid cgid ...
        if (f.length > 7 && Integer.parseInt(f[0]) == key) {
          return " (owner uid "
              + f[7]
              + ", mode 0"
              + Integer.toOctalString(Integer.parseInt(f[2], 8) & 0777)
              + ", "
              + f[6]
              + " attached, created by pid "
              + f[4]
              + ")";
        }
      }
    } catch (IOException | RuntimeException e) {
      // Only a diagnostic: fall through.
    }
    return "";
  }
}
