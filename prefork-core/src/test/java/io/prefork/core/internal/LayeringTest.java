package io.prefork.core.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The packages keep to their layers (docs/architecture.md), checked on the sources. */
class LayeringTest {
  private static final Path MAIN = Path.of("src/main/java/io/prefork/core");

  /** Every reference to the named code in a package's sources, imports or qualified names. */
  private static List<String> uses(String pkg, String... forbidden) throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(MAIN.resolve(pkg))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        List<String> lines = Files.readAllLines(f);
        for (int i = 0; i < lines.size(); i++) {
          for (String name : forbidden) {
            if (lines.get(i).contains(name)) {
              found.add(f.getFileName() + ":" + (i + 1) + ": " + lines.get(i).trim());
            }
          }
        }
      }
    }
    return found;
  }

  @Test
  void theChildNeverUsesTheMasterTheOpsOrJnrPosix() throws IOException {
    List<String> found =
        uses(
            "internal/child",
            "io.prefork.core.internal.master",
            "io.prefork.core.internal.ops",
            "jnr.posix");
    assertTrue(found.isEmpty(), "child code reaching master/ops/jnr-posix: " + found);
  }

  @Test
  void theOsBindingAndTheProtocolUseNothingElseOfPrefork() throws IOException {
    for (String pkg : List.of("internal/os", "internal/protocol")) {
      List<String> found =
          uses(
              pkg,
              "io.prefork.core.internal.master",
              "io.prefork.core.internal.child",
              "io.prefork.core.internal.ops");
      assertTrue(found.isEmpty(), pkg + " reaches up: " + found);
    }
  }

  @Test
  void thePoliciesReadNoClockButTheirOwn() throws IOException {
    List<String> found = new ArrayList<>();
    for (String policy :
        List.of(
            "PoolPolicy",
            "CrashBackoff",
            "Watchdog",
            "ExitDeadline",
            "Recycling",
            "Replacements")) {
      String src = Files.readString(MAIN.resolve("internal/master/" + policy + ".java"));
      if (src.contains("System.currentTimeMillis") || src.contains("System.nanoTime")) {
        found.add(policy);
      }
    }
    assertTrue(found.isEmpty(), "policies reading a clock directly: " + found);
  }
}
