package io.prefork.core.internal.master;

import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * Whether the pool fits in the machine's memory, and the heap each child gets. A child costs its
 * heap (the user's {@code -Xmx}, or what the preset derives) plus about {@link #NON_HEAP_BYTES} of
 * JIT code, metaspace, thread stacks and the JVM itself.
 */
public final class ChildMemory {
  /** What a child costs besides its heap, measured with the standard preset: 40-60 MB. */
  static final long NON_HEAP_BYTES = 64L << 20;

  private static final long MB = 1L << 20;

  private ChildMemory() {}

  /**
   * The heap each child gets and a check that {@code maxChildren} of them fit.
   *
   * @param preset the children's preset
   * @param userOptions the user's child JVM options (an {@code -Xmx} there is the heap)
   * @param maxChildren the pool's most children
   * @param physicalBytes the machine's memory
   * @return the heap the preset gives each child, in bytes
   * @throws IllegalArgumentException if the pool at its most children would not fit
   */
  public static long heapBytes(
      ChildJvmPreset preset, List<String> userOptions, int maxChildren, long physicalBytes) {
    long derived = ChildJvmPreset.heapFor(physicalBytes, maxChildren);
    long heap = preset == ChildJvmPreset.LEAN ? 64 * MB : derived;
    String xmx = null;
    for (String o : userOptions) {
      if (o.startsWith("-Xmx")) {
        xmx = o;
      }
    }
    long used = xmx != null ? parseSize(xmx) : heap;
    long need = maxChildren * (used + NON_HEAP_BYTES);
    if (physicalBytes > 0 && need > physicalBytes) {
      throw new IllegalArgumentException(
          "the pool cannot fit in memory: maxChildren ("
              + maxChildren
              + ") x (heap "
              + used / MB
              + " MB"
              + (xmx != null ? " from " + xmx : "")
              + " + about "
              + NON_HEAP_BYTES / MB
              + " MB per JVM) = "
              + need / MB
              + " MB, more than this machine's "
              + physicalBytes / MB
              + " MB: lower maxChildren or the children's -Xmx");
    }
    return derived;
  }

  /** {@return this machine's (or container's) memory in bytes, or 0 if unknown} */
  public static long physicalBytes() {
    try {
      var os = ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
        return sun.getTotalMemorySize();
      }
    } catch (RuntimeException | LinkageError e) {
      // No jdk.management: no check, the derived heap falls back to its floor.
    }
    return 0;
  }

  /** "-Xmx512m" as bytes. */
  static long parseSize(String option) {
    String v = option.substring(4).trim().toLowerCase(java.util.Locale.ROOT);
    long unit = 1;
    char last = v.isEmpty() ? '?' : v.charAt(v.length() - 1);
    switch (last) {
      case 'k' -> unit = 1L << 10;
      case 'm' -> unit = 1L << 20;
      case 'g' -> unit = 1L << 30;
      case 't' -> unit = 1L << 40;
      default -> {}
    }
    String digits = unit == 1 ? v : v.substring(0, v.length() - 1);
    try {
      return Math.multiplyExact(Long.parseLong(digits), unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "childJvmOptions has " + option + ": not a heap size (e.g. -Xmx512m)");
    }
  }
}
