package io.prefork.core.internal.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's resident set size (RSS), as {@code ps} and {@code top} show it: the {@code VmRSS}
 * line of {@code /proc/PID/status}. Not the JVM's own accounting (heap, metaspace): what the kernel
 * charges, shared library pages included.
 */
public final class ResidentMemory {
  private ResidentMemory() {}

  /**
   * The resident memory of a process.
   *
   * @param pid the process
   * @return its RSS in KiB, or 0 if it is gone or the kernel does not say (a zombie has none)
   */
  public static long kib(long pid) {
    byte[] status;
    try {
      status = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "status"));
    } catch (IOException | SecurityException e) {
      return 0;
    }
    return vmRssKib(new String(status, StandardCharsets.US_ASCII));
  }

  /** The {@code VmRSS: 1234 kB} line's number, 0 if there is none. */
  static long vmRssKib(String status) {
    int at = status.indexOf("\nVmRSS:");
    if (at < 0) {
      return 0;
    }
    long kib = 0;
    for (int i = at + "\nVmRSS:".length(); i < status.length(); i++) {
      char c = status.charAt(i);
      if (c >= '0' && c <= '9') {
        kib = kib * 10 + (c - '0');
      } else if (c != ' ' && c != '\t') {
        break;
      }
    }
    return kib;
  }
}
