package io.prefork.core.internal.ops;

import io.prefork.core.PreforkException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's pid file: written once the server is ready, removed when it stops, and a guard
 * against a second start while the pid in it is alive.
 */
public final class PidFile {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  private PidFile() {}

  /**
   * Refuses if the file names a live process other than this one; a stale file is logged and will
   * be replaced.
   */
  public static void checkFree(Path path) {
    if (!Files.exists(path)) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readString(path, StandardCharsets.US_ASCII).trim());
    } catch (IOException | NumberFormatException e) {
      log.warn(
          "pid file {} is unreadable or holds no pid ({}); it will be replaced",
          path,
          e.toString());
      return;
    }
    boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    if (alive && pid != ProcessHandle.current().pid()) {
      throw new PreforkException(
          "pid file "
              + path
              + " names pid "
              + pid
              + ", which is running: a server is already started there; stop it first (or remove"
              + " the file if that process is not a prefork server)");
    }
    if (!alive) {
      log.warn("pid file {} names pid {}, which is gone: replacing the stale file", path, pid);
    }
  }

  /** Writes this process's pid, atomically (a reader never sees a half-written file). */
  public static void write(Path path) {
    try {
      Path dir = path.toAbsolutePath().getParent();
      Path tmp = Files.createTempFile(dir, path.getFileName().toString(), ".tmp");
      Files.writeString(tmp, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new PreforkException("cannot write pid file " + path + ": " + e.getMessage(), e);
    }
  }

  /** Removes the file if it still names this process. */
  public static void remove(Path path) {
    try {
      String content = Files.readString(path, StandardCharsets.US_ASCII).trim();
      if (content.equals(Long.toString(ProcessHandle.current().pid()))) {
        Files.delete(path);
      }
    } catch (IOException | RuntimeException e) {
      // gone already, or not ours: leave it
    }
  }
}
