package io.prefork.core.internal.master;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The children's JVM flags before the user's, by name. The user's options come after these and win;
 * an option of theirs that would make the JVM refuse to start next to one of ours (a second
 * collector, a compiler setting next to a compiler-thread count) drops ours.
 */
public enum ChildJvmPreset {
  /**
   * For real jobs, the default: full tiered JIT (C1 then C2), so ordinary Java code runs at the
   * speed of any JVM, and a heap sized from the machine's memory and the pool's most children
   * rather than a small cap that makes an allocating job collect all the time. The serial
   * collector: many JVMs share the cores, and young collections of a worker's short-lived garbage
   * are what it is good at.
   */
  STANDARD {
    @Override
    List<String> own(long heapBytes) {
      return List.of(
          "-XX:+UseSerialGC",
          "-Xms" + Math.min(heapBytes, INITIAL_HEAP_BYTES) / MB + "m",
          "-Xmx" + heapBytes / MB + "m",
          "-XX:-UsePerfData",
          "-XX:+ExitOnOutOfMemoryError",
          // Reflection instead of ASM-generated stubs: the child makes each native call once.
          "-Djnr.ffi.asm.enabled=false");
    }
  },

  /**
   * For tiny jobs (hello, a proxy hop) where many children must stay small: C1 only with one
   * compiler thread, a 4 MB initial and 64 MB most heap, small stacks and string table: an idle
   * child is about 40 MB and accepts about 110 ms after its spawn, but ordinary Java code runs at
   * half speed or less.
   */
  LEAN {
    @Override
    List<String> own(long heapBytes) {
      return List.of(
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          // One C1 compiler thread, not two: on a small machine the second competes with the
          // child's own start-up (spawn to first accept 110 ms instead of 133, -0.2 MB RSS).
          COMPILER_THREADS,
          "-Xss256k",
          // A small initial heap: start-up garbage touches fewer pages (-1.2 MB RSS per idle
          // child); the heap grows under load.
          "-Xms4m",
          "-Xmx64m",
          // The interned-string table starts at 65536 buckets; it grows when it fills (-0.4 MB).
          "-XX:StringTableSize=4096",
          "-XX:-UsePerfData",
          "-XX:+ExitOnOutOfMemoryError",
          "-Djnr.ffi.asm.enabled=false");
    }
  };

  /**
   * The standard preset's initial heap, at most: enough young space for a busy worker's garbage.
   */
  static final long INITIAL_HEAP_BYTES = 128L << 20;

  /** The smallest heap the standard preset gives a child. */
  public static final long MIN_HEAP_BYTES = 64L << 20;

  /** The largest heap the standard preset derives (the user's -Xmx may say more). */
  public static final long MAX_HEAP_BYTES = 2L << 30;

  private static final long MB = 1L << 20;

  /** Dropped when the user's options choose a compiler: C2 needs two compiler threads. */
  private static final String COMPILER_THREADS = "-XX:CICompilerCount=1";

  abstract List<String> own(long heapBytes);

  /** {@return the name used by the builder and the CLI ("standard", "lean")} */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The preset's options, less those the user's options replace.
   *
   * @param heapBytes the heap the standard preset gives each child
   * @param userOptions the user's options, which come after these
   */
  List<String> options(long heapBytes, List<String> userOptions) {
    List<String> options = new ArrayList<>(own(heapBytes));
    if (userOptions.stream().anyMatch(ChildJvmPreset::selectsGarbageCollector)) {
      // Two collectors make the JVM refuse to start: the user's choice wins.
      options.remove("-XX:+UseSerialGC");
    }
    if (userOptions.stream().anyMatch(o -> o.contains("Tiered") || o.contains("CICompilerCount"))) {
      // C2 as well as C1 needs two compiler threads at least, or the JVM refuses to start.
      options.remove(COMPILER_THREADS);
    }
    return options;
  }

  /**
   * The heap the standard preset gives each child: half the machine's memory shared by the pool's
   * most children, within {@link #MIN_HEAP_BYTES} and {@link #MAX_HEAP_BYTES}. A child's heap grows
   * only as its job allocates: an idle child stays small whatever this says.
   *
   * @param physicalBytes the machine's memory
   * @param maxChildren the pool's most children
   */
  public static long heapFor(long physicalBytes, int maxChildren) {
    long share = physicalBytes / 2 / Math.max(1, maxChildren);
    return Math.max(MIN_HEAP_BYTES, Math.min(MAX_HEAP_BYTES, share)) / MB * MB;
  }

  /**
   * The preset of a name.
   *
   * @throws IllegalArgumentException naming the known presets
   */
  public static ChildJvmPreset byName(String name) {
    for (ChildJvmPreset p : values()) {
      if (p.label().equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "childJvmPreset '" + name + "' does not exist: choose standard (the default) or lean");
  }

  private static boolean selectsGarbageCollector(String option) {
    return option.startsWith("-XX:+Use") && option.endsWith("GC");
  }
}
