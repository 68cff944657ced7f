package io.prefork.core.internal.child;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Threads of this JVM blocked in a system call, as the kernel reports them, and named threads to
 * block there.
 */
final class BlockedThreads {
  private BlockedThreads() {}

  /** A call that may fail with an {@link IOException}. */
  interface IoCall<T> {
    T call() throws IOException;
  }

  /** Runs {@code call} in a new thread of that name; the future fails with the call's exception. */
  static <T> CompletableFuture<T> inThread(String name, IoCall<T> call) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                result.complete(call.call());
              } catch (IOException e) {
                result.completeExceptionally(new UncheckedIOException(e));
              } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return result;
  }

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
