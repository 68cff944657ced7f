package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WatchdogTest {
  private final FakeClock clock = new FakeClock();
  private final Watchdog watchdog = new Watchdog(Duration.ofSeconds(5).toNanos(), 4, clock);

  @Test
  void aWorkerBusyOnOneConnectionPastTheLimitIsHung() {
    assertFalse(watchdog.hung(0, true, 7), "first seen busy");
    clock.advance(Duration.ofSeconds(5));
    assertFalse(watchdog.hung(0, true, 7), "exactly the limit");
    clock.advance(Duration.ofMillis(1));
    assertTrue(watchdog.hung(0, true, 7));
    assertEquals(Duration.ofMillis(5001).toNanos(), watchdog.busyNanos(0));
  }

  @Test
  void aNewConnectionStartsTheTimingAgain() {
    watchdog.hung(1, true, 7);
    clock.advance(Duration.ofSeconds(4));
    assertFalse(watchdog.hung(1, true, 8), "another call: a new connection");
    clock.advance(Duration.ofSeconds(4));
    assertFalse(watchdog.hung(1, true, 8), "4 s on this one");
    watchdog.hung(1, false, 8);
    clock.advance(Duration.ofSeconds(10));
    assertFalse(watchdog.hung(1, true, 8), "idle in between resets it too");
  }

  @Test
  void aWallClockStepCannotFireIt() {
    // The table's stamps are wall clock; the watchdog never reads them. A monotonic clock going
    // back (it cannot, but a fake can) must not make anyone hung either.
    watchdog.hung(2, true, 1);
    clock.stepBack(Duration.ofHours(1));
    assertFalse(watchdog.hung(2, true, 1));
    clock.advance(Duration.ofHours(1)).advance(Duration.ofSeconds(4));
    assertFalse(watchdog.hung(2, true, 1));
  }

  @Test
  void offWhenTheLimitIsZero() {
    Watchdog off = new Watchdog(0, 4, clock);
    assertFalse(off.enabled());
    off.hung(0, true, 1);
    clock.advance(Duration.ofDays(1));
    assertFalse(off.hung(0, true, 1));
  }

  @Test
  void aFreedSlotStartsAfresh() {
    watchdog.hung(3, true, 0);
    clock.advance(Duration.ofSeconds(6));
    watchdog.forget(3);
    assertFalse(watchdog.hung(3, true, 0), "the next child in the slot starts at 0 calls too");
  }
}
