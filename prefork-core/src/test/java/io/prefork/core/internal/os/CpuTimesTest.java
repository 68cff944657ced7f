package io.prefork.core.internal.os;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CpuTimesTest {
  @Test
  void idleAndIoWaitAreAvailableTheRestBusyGuestTimeCountedOnce() {
    // user nice system idle iowait irq softirq steal guest guest_nice
    long[] t = CpuTimes.parse("cpu  100 5 50 800 20 3 2 10 40 1\ncpu0 1 2 3 4\n");
    assertArrayEquals(new long[] {170, 990}, t);
  }

  @Test
  void aLineItCannotReadIsUnknown() {
    assertNull(CpuTimes.parse("intr 1 2 3\n"));
    assertNull(CpuTimes.parse("cpu  1 2\n"));
    assertNull(CpuTimes.parse("cpu  1 2 x 4\n"));
  }

  @Test
  void readsThisMachine() {
    long[] t = CpuTimes.machine();
    assertNotNull(t, "/proc/stat");
    assertTrue(t[0] > 0 && t[1] > t[0], t[0] + " busy of " + t[1]);
  }
}
