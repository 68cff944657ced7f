package io.prefork.core.internal.child;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** Threads of this JVM blocked in a system call, as the kernel reports them. */
final class BlockedThreads {
  private BlockedThreads() {}

  /**
   * Waits at most 10 s until {@code count} threads of that name (the JVM gives each thread its name
   * in the kernel, cut to 15 bytes) are asleep inside one of these system calls at once, by {@code
   * /proc/self/task/TID/syscall} (Linux x86-64 numbers).
   */
  static void await(String thread, int count, String... syscalls) throws Exception {
    Set<String> wanted = Set.of(syscalls);
    long giveUp = System.nanoTime() + 10_000_000_000L;
    while (true) {
      int blocked = 0;
      try (var tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
        for (Path task : tasks) {
          try {
            if (Files.readString(task.resolve("comm")).trim().equals(thread)) {
              String[] call = Files.readString(task.resolve("syscall")).trim().split(" ");
              String state =
                  Files.readString(task.resolve("stat")).split("\\) ")[1].substring(0, 1);
              if (wanted.contains(call[0]) && state.equals("S")) {
                blocked++; // asleep inside the call: blocked in it
              }
            }
          } catch (IOException gone) {
            // that thread ended meanwhile
          }
        }
      }
      if (blocked >= count) {
        return;
      }
      assertTrue(
          System.nanoTime() < giveUp,
          count + " thread(s) " + thread + " never blocked in system call " + wanted + " at once");
      Thread.sleep(1);
    }
  }
}
