package io.prefork.core.internal.protocol;

/** How a child ended, decoded from a {@code waitpid} status. */
public record ExitStatus(int exitCode, int signal) {
  /** The child's job failed to load or open (sysexits EX_CONFIG). */
  public static final int JOB_FAILED = 78;

  /** The child could not set itself up (no inherited socket, no table; sysexits EX_SOFTWARE). */
  public static final int CHILD_FAILED = 70;

  /**
   * A job hit an {@link Error} while serving: the child halted itself (74, distinct from 70/78).
   */
  public static final int JOB_ERROR = 74;

  /** The JVM ran out of heap ({@code -XX:+ExitOnOutOfMemoryError} exits with 3). */
  static final int OUT_OF_MEMORY = 3;

  public static ExitStatus decode(int status) {
    int signal = status & 0x7f;
    if (signal == 0) {
      return new ExitStatus((status >> 8) & 0xff, 0);
    }
    return new ExitStatus(-1, signal);
  }

  public boolean signaled() {
    return signal != 0;
  }

  @Override
  public String toString() {
    if (signaled()) {
      return "killed by signal " + signal + " (" + signalName(signal) + ")";
    }
    return switch (exitCode) {
      case 0 -> "exit status 0";
      case JOB_FAILED -> "exit status 78 (the job failed to start)";
      case CHILD_FAILED -> "exit status 70 (the child could not set itself up)";
      case JOB_ERROR -> "exit status 74 (the job hit a fatal error while serving)";
      case OUT_OF_MEMORY -> "exit status 3 (out of heap)";
      default -> "exit status " + exitCode;
    };
  }

  static String signalName(int signal) {
    return switch (signal) {
      case 1 -> "SIGHUP";
      case 2 -> "SIGINT";
      case 3 -> "SIGQUIT";
      case 4 -> "SIGILL";
      case 6 -> "SIGABRT";
      case 7 -> "SIGBUS";
      case 8 -> "SIGFPE";
      case 9 -> "SIGKILL";
      case 11 -> "SIGSEGV";
      case 13 -> "SIGPIPE";
      case 15 -> "SIGTERM";
      default -> "signal " + signal;
    };
  }
}
