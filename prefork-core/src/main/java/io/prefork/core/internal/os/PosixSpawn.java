package io.prefork.core.internal.os;

import io.prefork.core.PreforkException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.byref.IntByReference;

/**
 * {@code posix_spawnp} (through {@link Libc}), with glibc's {@code
 * posix_spawn_file_actions_addclosefrom_np}: the child closes every descriptor from 3 up as one
 * step of the spawn itself. Listing {@code /proc/self/fd} first and closing each one is racy: a
 * socket another thread of the master opens between the listing and the spawn (the JDK opens
 * sockets without close-on-exec) would leak into the child, and stay open as long as the child
 * lives. The listing remains as the fallback for a glibc older than 2.34.
 */
public final class PosixSpawn {
  /** Generous upper bounds of glibc's x86-64 structs (80, 336 and 128 bytes). */
  private static final int FILE_ACTIONS_SIZE = 256;

  private static final int ATTRIBUTES_SIZE = 512;
  private static final int SIGSET_SIZE = 128;
  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;

  private static final class Holder {
    static final boolean CLOSEFROM = closeFromAvailable(Libc.calls(), Libc.runtime());
  }

  private PosixSpawn() {}

  /**
   * Spawns {@code argv} with {@code dup2(from[i], to[i])} applied in order and every other
   * descriptor above 2 closed, with no signal blocked (whatever the calling thread blocks).
   *
   * @return the child's pid
   * @throws PreforkException naming the error when the spawn fails
   */
  public static int spawn(List<String> argv, List<String> environment, int[] from, int[] to) {
    Libc.Calls c = Libc.calls();
    Pointer actions = Memory.allocateDirect(Libc.runtime(), FILE_ACTIONS_SIZE, true);
    Pointer attributes = Memory.allocateDirect(Libc.runtime(), ATTRIBUTES_SIZE, true);
    Pointer emptySet = Memory.allocateDirect(Libc.runtime(), SIGSET_SIZE, true);
    check("posix_spawn_file_actions_init", c.posix_spawn_file_actions_init(actions));
    try {
      check("posix_spawnattr_init", c.posix_spawnattr_init(attributes));
      try {
        for (int i = 0; i < from.length; i++) {
          check(
              "posix_spawn_file_actions_adddup2",
              c.posix_spawn_file_actions_adddup2(actions, from[i], to[i]));
        }
        closeTheRest(c, actions);
        check("posix_spawnattr_setsigmask", c.posix_spawnattr_setsigmask(attributes, emptySet));
        check(
            "posix_spawnattr_setflags",
            c.posix_spawnattr_setflags(attributes, POSIX_SPAWN_SETSIGMASK));
        IntByReference pid = new IntByReference();
        int error =
            c.posix_spawnp(
                pid,
                argv.get(0),
                actions,
                attributes,
                argv.toArray(new CharSequence[0]),
                environment.toArray(new CharSequence[0]));
        if (error != 0) {
          throw Libc.failure("posix_spawnp(" + argv.get(0) + ")", error);
        }
        return pid.intValue();
      } finally {
        c.posix_spawnattr_destroy(attributes);
      }
    } finally {
      c.posix_spawn_file_actions_destroy(actions);
    }
  }

  private static void closeTheRest(Libc.Calls c, Pointer actions) {
    if (Holder.CLOSEFROM) {
      check(
          "posix_spawn_file_actions_addclosefrom_np",
          c.posix_spawn_file_actions_addclosefrom_np(actions, 3));
      return;
    }
    for (int fd : openDescriptors()) {
      if (fd > 2) {
        check(
            "posix_spawn_file_actions_addclose", c.posix_spawn_file_actions_addclose(actions, fd));
      }
    }
  }

  private static boolean closeFromAvailable(Libc.Calls c, Runtime runtime) {
    Pointer probe = Memory.allocateDirect(runtime, FILE_ACTIONS_SIZE, true);
    try {
      c.posix_spawn_file_actions_init(probe);
      try {
        return c.posix_spawn_file_actions_addclosefrom_np(probe, 3) == 0;
      } finally {
        c.posix_spawn_file_actions_destroy(probe);
      }
    } catch (UnsatisfiedLinkError e) {
      return false; // glibc before 2.34
    }
  }

  private static int[] openDescriptors() {
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      List<Integer> fds = new ArrayList<>();
      for (Path p : dir) {
        fds.add(Integer.parseInt(p.getFileName().toString()));
      }
      return fds.stream().mapToInt(Integer::intValue).toArray();
    } catch (IOException | NumberFormatException e) {
      throw new PreforkException("cannot list /proc/self/fd to keep children clean: " + e, e);
    }
  }

  private static void check(String call, int error) {
    if (error != 0) {
      throw Libc.failure(call + "()", error);
    }
  }
}
