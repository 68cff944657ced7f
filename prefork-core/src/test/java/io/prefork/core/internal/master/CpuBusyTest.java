package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;

class CpuBusyTest {
  private final FakeClock clock = new FakeClock();
  private final Deque<long[]> samples = new ArrayDeque<>();
  private final CpuBusy cpu = new CpuBusy(samples::poll, clock);

  @Test
  void theBusyShareOfEachCompletedInterval() {
    samples.add(new long[] {1_000, 10_000});
    assertEquals(-1, cpu.fraction(), "unknown until one interval passed");
    clock.advance(Duration.ofMillis(100));
    assertEquals(-1, cpu.fraction(), "within the interval: no new read");
    assertEquals(0, samples.size(), "the source was read once");
    samples.add(new long[] {1_090, 10_100});
    clock.advance(Duration.ofMillis(400));
    assertEquals(0.9, cpu.fraction(), 1e-9, "90 of 100 ticks busy");
    clock.advance(Duration.ofMillis(499));
    assertEquals(0.9, cpu.fraction(), 1e-9, "kept until the next interval");
    samples.add(new long[] {1_100, 10_200});
    clock.advance(Duration.ofMillis(1));
    assertEquals(0.1, cpu.fraction(), 1e-9);
  }

  @Test
  void anUnreadableSourceIsUnknownAndAStalledCounterKeepsTheLastShare() {
    samples.add(new long[] {0, 100});
    cpu.fraction();
    clock.advance(Duration.ofSeconds(1));
    samples.add(new long[] {50, 200});
    assertEquals(0.5, cpu.fraction(), 1e-9);
    clock.advance(Duration.ofSeconds(1));
    samples.add(new long[] {50, 200}); // no tick counted (a suspended VM): the share stays
    assertEquals(0.5, cpu.fraction(), 1e-9);
    clock.advance(Duration.ofSeconds(1));
    assertEquals(-1, cpu.fraction(), "no /proc/stat: unknown");
  }
}
