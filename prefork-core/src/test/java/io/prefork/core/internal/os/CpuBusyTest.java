package io.prefork.core.internal.os;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;

class CpuBusyTest {
  private long nowNanos;
  private final Deque<long[]> samples = new ArrayDeque<>();
  private final CpuBusy cpu = new CpuBusy(samples::poll, () -> nowNanos);

  @Test
  void theBusyShareOfEachCompletedInterval() {
    samples.add(new long[] {1_000, 10_000});
    assertEquals(-1, cpu.fraction(), "unknown until one interval passed");
    advanceMillis(100);
    assertEquals(-1, cpu.fraction(), "within the interval: no new read");
    assertEquals(0, samples.size(), "the source was read once");
    samples.add(new long[] {1_090, 10_100});
    advanceMillis(400);
    assertEquals(0.9, cpu.fraction(), 1e-9, "90 of 100 ticks busy");
    advanceMillis(499);
    assertEquals(0.9, cpu.fraction(), 1e-9, "kept until the next interval");
    samples.add(new long[] {1_100, 10_200});
    advanceMillis(1);
    assertEquals(0.1, cpu.fraction(), 1e-9);
  }

  @Test
  void anUnreadableSourceIsUnknownAndAStalledCounterKeepsTheLastShare() {
    samples.add(new long[] {0, 100});
    cpu.fraction();
    advanceMillis(1000);
    samples.add(new long[] {50, 200});
    assertEquals(0.5, cpu.fraction(), 1e-9);
    advanceMillis(1000);
    samples.add(new long[] {50, 200}); // no tick counted (a suspended VM): the share stays
    assertEquals(0.5, cpu.fraction(), 1e-9);
    advanceMillis(1000);
    assertEquals(-1, cpu.fraction(), "no /proc/stat: unknown");
  }

  private void advanceMillis(long millis) {
    nowNanos += Duration.ofMillis(millis).toNanos();
  }
}
