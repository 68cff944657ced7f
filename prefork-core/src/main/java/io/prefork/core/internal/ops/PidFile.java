package io.prefork.core.internal.ops;

import io.prefork.core.PreforkException;
import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's pid file, held for the server's whole life by an exclusive {@code flock(2)}: a
 * second server given the same file is refused at once, naming the file and the pid that holds it,
 * however close together the two start (checking the pid in the file, then writing it, let two
 * servers pass the check together). The pid is written into the file once the server is ready; the
 * file is removed when it stops, and the lock goes with the process however it ends.
 *
 * <p>{@code flock}, not {@code fcntl} record locks ({@code FileChannel.lock}): a record lock is
 * lost when the process closes <em>any</em> descriptor of the file, which any code of the JVM
 * reading the file would do, and two servers in one JVM would not exclude each other. A {@code
 * flock} lock belongs to this one open file, and excludes any other open of it, in this process
 * too.
 */
public final class PidFile {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** Tries at taking the file while a stopping holder removes it under us. */
  private static final int ATTEMPTS = 5;

  private final Path path;
  private final int fd;
  private boolean released;

  private PidFile(Path path, int fd) {
    this.path = path;
    this.fd = fd;
  }

  /**
   * Takes the pid file: creates it if need be and locks it, for as long as this server runs. A
   * stale file (no lock on it: its server is gone) is taken over.
   *
   * @throws PreforkException naming the file and the pid holding it, if another process, or another
   *     server of this JVM, holds it
   */
  public static PidFile acquire(Path path) {
    for (int attempt = 1; ; attempt++) {
      int fd = open(path, Libc.O_RDWR | Libc.O_CREAT);
      boolean keep = false;
      try {
        if (!Libc.tryFlock(fd, Libc.LOCK_EX, path.toString())) {
          throw held(path, fd);
        }
        if (!sameFile(path, fd)) {
          // Its holder removed it after we opened it and before it let go: the lock we have is
          // on a file nobody will look at. Take the one at the path now.
          if (attempt == ATTEMPTS) {
            throw new PreforkException(
                "pid file " + path + " keeps being replaced while this server tries to take it");
          }
          continue;
        }
        String stale = content(fd);
        if (!stale.isEmpty()) {
          log.warn(
              "pid file {} names pid {}, but no process holds it: replacing the stale file",
              path,
              stale);
        }
        Libc.ftruncate(fd, 0, path.toString());
        keep = true;
        return new PidFile(path, fd);
      } catch (OsException e) {
        throw new PreforkException("cannot take pid file " + path + ": " + e.getMessage(), e);
      } finally {
        if (!keep) {
          Libc.close(fd);
        }
      }
    }
  }

  /**
   * Refuses if a process holds the file; takes nothing (a daemon's launcher, before it starts the
   * daemon that will {@link #acquire} it).
   *
   * @throws PreforkException naming the file and the pid holding it
   */
  public static void checkFree(Path path) {
    int fd;
    try {
      fd = Libc.open(path.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NOFOLLOW, 0);
    } catch (OsException e) {
      if (e.errno() == Libc.ENOENT) {
        return; // no file: free
      }
      throw new PreforkException("cannot open pid file " + path + ": " + e.getMessage(), e);
    }
    try {
      if (!Libc.tryFlock(fd, Libc.LOCK_EX, path.toString())) {
        throw held(path, fd);
      }
    } catch (OsException e) {
      throw new PreforkException("cannot lock pid file " + path + ": " + e.getMessage(), e);
    } finally {
      Libc.close(fd); // and with it the lock, if we got it
    }
  }

  /** Writes this process's pid into the file, once the server is ready. */
  public synchronized void write() {
    byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
    try {
      Libc.pwrite(fd, pid, 0, path.toString()); // one small write: no reader sees half a pid
    } catch (OsException e) {
      throw new PreforkException("cannot write pid file " + path + ": " + e.getMessage(), e);
    }
  }

  /** Removes the file (if it is still the one locked) and lets the lock go. Idempotent. */
  public synchronized void release() {
    if (released) {
      return;
    }
    released = true;
    try {
      if (sameFile(path, fd)) {
        Files.delete(path); // while still locked: a newcomer either waits for us or sees no file
      }
    } catch (IOException | RuntimeException e) {
      log.debug("removing pid file {}: {}", path, e.toString());
    } finally {
      Libc.close(fd);
    }
  }

  private static int open(Path path, int flags) {
    try {
      return Libc.open(path.toString(), flags | Libc.O_CLOEXEC | Libc.O_NOFOLLOW, 0644);
    } catch (OsException e) {
      throw new PreforkException("cannot open pid file " + path + ": " + e.getMessage(), e);
    }
  }

  private static PreforkException held(Path path, int fd) {
    long holder = holderOf(path);
    String who;
    if (holder == ProcessHandle.current().pid()) {
      who = "pid " + holder + ", this JVM: another server of this JVM uses it";
    } else if (holder > 0) {
      who = "pid " + holder;
    } else {
      String named = content(fd);
      who =
          named.isEmpty()
              ? "another process"
              : "another process (the file names pid " + named + ")";
    }
    return new PreforkException(
        "pid file "
            + path
            + " is held by "
            + who
            + ": a server already runs with this pid file; stop it first, or give this one"
            + " another pid file");
  }

  /** The pid holding the file's flock, from /proc/locks, or -1. */
  static long holderOf(Path path) {
    try {
      long inode = (Long) Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS);
      long dev = (Long) Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS);
      long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
      String file = String.format("%02x:%02x:%d", major, minor, inode);
      for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
        // "1: FLOCK  ADVISORY  WRITE 12345 08:01:1234567 0 EOF"; "1: -> ..." lines are waiters
        String[] f = line.trim().split("\\s+");
        if (f.length >= 6 && f[1].equals("FLOCK") && f[5].equals(file)) {
          return Long.parseLong(f[4]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return -1;
  }

  /** Whether {@code path} still names the file open on {@code fd}. */
  private static boolean sameFile(Path path, int fd) {
    try {
      Object atPath = Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS);
      Object devAtPath = Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS);
      Path open = Path.of("/proc/self/fd/" + fd); // followed: the open file, even if unlinked
      return atPath.equals(Files.getAttribute(open, "unix:ino"))
          && devAtPath.equals(Files.getAttribute(open, "unix:dev"));
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      throw new PreforkException("cannot look at pid file " + path + ": " + e, e);
    }
  }

  /** The file's first line, trimmed, read from the start through {@code fd}; "" if none. */
  private static String content(int fd) {
    try {
      byte[] buf = new byte[64];
      int n = (int) Libc.calls().pread(fd, buf, buf.length, 0);
      if (n <= 0) {
        return "";
      }
      String text = new String(buf, 0, n, StandardCharsets.US_ASCII).trim();
      int newline = text.indexOf('\n');
      return newline < 0 ? text : text.substring(0, newline).trim();
    } catch (RuntimeException e) {
      return "";
    }
  }
}
