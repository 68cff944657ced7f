package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class CompilerPriorityTest {
  @Test
  void rootWithTheStandardPresetPutsTheCompilerFirst() {
    assertEquals(
        List.of("-XX:ThreadPriorityPolicy=1", "-XX:CompilerThreadPriority=-10"),
        CompilerPriority.options(true, ChildJvmPreset.STANDARD, List.of("-Xmx1g")));
  }

  @Test
  void withoutRootTheJvmCouldNotRaiseItAndWouldWarn() {
    assertEquals(List.of(), CompilerPriority.options(false, ChildJvmPreset.STANDARD, List.of()));
  }

  @Test
  void theLeanPresetHasNoC2ToHurry() {
    assertEquals(List.of(), CompilerPriority.options(true, ChildJvmPreset.LEAN, List.of()));
  }

  @Test
  void theUsersOwnChoiceWins() {
    assertEquals(
        List.of(),
        CompilerPriority.options(
            true, ChildJvmPreset.STANDARD, List.of("-XX:ThreadPriorityPolicy=0")));
    assertEquals(
        List.of(),
        CompilerPriority.options(
            true, ChildJvmPreset.STANDARD, List.of("-XX:CompilerThreadPriority=5")));
  }
}
