package io.prefork.core.internal.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The scheduler's view of this process's threads, from {@code /proc}: a thread's kernel id, and
 * whether it is on a core or waiting for one ({@code R}) or blocked (sleeping in a read, a sleep, a
 * lock: anything else). What tells a worker waiting on I/O, which another thread would help, from
 * one computing, which another thread would only compete with.
 */
public final class ThreadStates {
  private static final Path THREAD_SELF = Path.of("/proc/thread-self");

  /** A thread state that could not be read. */
  public static final char UNKNOWN = '?';

  private ThreadStates() {}

  /** {@return the calling thread's kernel id (its {@code gettid()}), or -1 if unknown} */
  public static int currentTid() {
    try {
      // "/proc/thread-self" links to "PID/task/TID".
      Path target = Files.readSymbolicLink(THREAD_SELF);
      return Integer.parseInt(target.getFileName().toString());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The state of one of this process's threads now.
   *
   * @param tid its kernel id
   * @return its state letter ({@code R}, {@code S}, {@code D} ...), or {@link #UNKNOWN}
   */
  public static char state(int tid) {
    if (tid <= 0) {
      return UNKNOWN;
    }
    try {
      return parseState(
          new String(
              Files.readAllBytes(Path.of("/proc/self/task", Integer.toString(tid), "stat")),
              StandardCharsets.US_ASCII));
    } catch (IOException | RuntimeException e) {
      return UNKNOWN; // gone meanwhile
    }
  }

  /** {@code TID (comm) S ...}: the letter after the command, which may itself hold ") ". */
  static char parseState(String stat) {
    int close = stat.lastIndexOf(')');
    return close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : UNKNOWN;
  }

  /** {@return whether a thread in this state is running or ready to run} */
  public static boolean runnable(char state) {
    return state == 'R';
  }
}
