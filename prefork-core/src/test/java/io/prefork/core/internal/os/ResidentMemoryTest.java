package io.prefork.core.internal.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ResidentMemoryTest {
  @Test
  void readsThisJvmsResidentMemoryAsPsShowsIt() throws Exception {
    long kib = ResidentMemory.kib(ProcessHandle.current().pid());
    Process ps =
        new ProcessBuilder("ps", "-o", "rss=", "-p", Long.toString(ProcessHandle.current().pid()))
            .start();
    long psKib = Long.parseLong(new String(ps.getInputStream().readAllBytes()).trim());
    assertTrue(ps.waitFor(10, TimeUnit.SECONDS), "ps ended");
    assertTrue(kib > 8 * 1024, "a JVM holds more than 8 MB: " + kib + " KiB");
    // Read a moment apart, in a JVM that allocates: within a few MB of each other.
    assertTrue(Math.abs(kib - psKib) < 16 * 1024, kib + " KiB against ps's " + psKib);
  }

  @Test
  void aGoneProcessOrAnUnreadableLineIsZero() {
    assertEquals(0, ResidentMemory.kib(Integer.MAX_VALUE));
    assertEquals(0, ResidentMemory.vmRssKib("Name:\tjava\nState:\tZ (zombie)\n"));
    assertEquals(
        4321, ResidentMemory.vmRssKib("Name:\tjava\nVmRSS:\t    4321 kB\nRssAnon: 1 kB\n"));
  }
}
