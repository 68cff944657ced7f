package io.prefork.core.internal.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's CPU time since boot, from the {@code cpu} line of {@code /proc/stat}: all cores
 * together, in clock ticks. Idle and I/O wait count as available; everything else (user, nice,
 * system, interrupts, steal) as busy.
 */
public final class CpuTimes {
  private static final Path STAT = Path.of("/proc/stat");

  private CpuTimes() {}

  /**
   * Reads the machine's CPU time now.
   *
   * @return {busy ticks, total ticks}, or null if {@code /proc/stat} cannot be read
   */
  public static long[] machine() {
    try {
      return parse(new String(Files.readAllBytes(STAT), StandardCharsets.US_ASCII));
    } catch (IOException | SecurityException e) {
      return null;
    }
  }

  /** The first line, {@code cpu user nice system idle iowait irq softirq steal ...}. */
  static long[] parse(String stat) {
    if (!stat.startsWith("cpu ")) {
      return null;
    }
    int end = stat.indexOf('\n');
    String[] f = stat.substring(4, end < 0 ? stat.length() : end).trim().split("\\s+");
    if (f.length < 4) {
      return null;
    }
    long total = 0;
    long idle = 0;
    // Fields 8 and 9 (guest, guest_nice) are already inside user and nice: not added twice.
    for (int i = 0; i < Math.min(f.length, 8); i++) {
      long v;
      try {
        v = Long.parseLong(f[i]);
      } catch (NumberFormatException e) {
        return null;
      }
      total += v;
      if (i == 3 || i == 4) {
        idle += v;
      }
    }
    return new long[] {total - idle, total};
  }
}
