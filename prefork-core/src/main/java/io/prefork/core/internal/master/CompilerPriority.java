package io.prefork.core.internal.master;

import java.util.List;

/**
 * The children's JIT compiler threads ahead of their workers, where the operating system lets a JVM
 * raise a thread's priority (root). A cold child under load (a restart, a recycle, the pool
 * growing) runs every worker on the busy cores while its C2 compiler thread, one thread among a
 * dozen, gets a share too small to finish: the hot path stays in slow code for seconds. With the
 * compiler threads at {@code nice} {@value #COMPILER_NICE}, compilation finishes first and the
 * child is at full speed sooner (on 2 cores, a restart under the CPU job: 66-69 % of steady over
 * the 10 s after it instead of 54-55 %). Idle compiler threads use no core: a warm child runs as
 * before.
 *
 * <p>HotSpot raises priorities only for root ({@code -XX:ThreadPriorityPolicy=1} warns and is
 * ignored otherwise), so the options are added only then, only with the standard preset (C2), and
 * never when the user's own options set either flag. The policy also maps Java thread priorities to
 * nice values (5, the default, stays at 0): a job that calls {@code Thread.setPriority} gets what
 * it asked for.
 */
final class CompilerPriority {
  /** The compiler threads' nice value: ahead of the workers' 0 by about ten times the weight. */
  static final int COMPILER_NICE = -10;

  static final List<String> OPTIONS =
      List.of("-XX:ThreadPriorityPolicy=1", "-XX:CompilerThreadPriority=" + COMPILER_NICE);

  private CompilerPriority() {}

  /**
   * The options that put the compiler threads first, or none.
   *
   * @param root whether the children run as root (the master's effective uid is 0)
   * @param preset the children's preset
   * @param userOptions the user's child JVM options
   */
  static List<String> options(boolean root, ChildJvmPreset preset, List<String> userOptions) {
    boolean userChose =
        userOptions.stream()
            .anyMatch(
                o -> o.contains("ThreadPriorityPolicy") || o.contains("CompilerThreadPriority"));
    return root && preset == ChildJvmPreset.STANDARD && !userChose ? OPTIONS : List.of();
  }
}
