package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CrashBackoffTest {
  private final FakeClock clock = new FakeClock();
  private final CrashBackoff backoff = new CrashBackoff(clock);

  @Test
  void firstQuickDeathIsReplacedAtOnceThenTheDelayDoubles() {
    assertEquals(0, backoff.childDied(-1));
    assertFalse(backoff.backingOff());
    assertEquals(Duration.ofMillis(100).toNanos(), backoff.childDied(-1));
    assertEquals(Duration.ofMillis(200).toNanos(), backoff.childDied(-1));
    assertEquals(Duration.ofMillis(400).toNanos(), backoff.childDied(-1));
    assertTrue(backoff.backingOff());
    clock.advance(Duration.ofMillis(399));
    assertTrue(backoff.backingOff());
    clock.advance(Duration.ofMillis(1));
    assertFalse(backoff.backingOff());
  }

  @Test
  void theDelayStopsAtTenSeconds() {
    long delay = 0;
    for (int i = 0; i < 40; i++) {
      delay = backoff.childDied(Duration.ofMillis(10).toNanos());
    }
    assertEquals(Duration.ofSeconds(10).toNanos(), delay);
  }

  @Test
  void aChildThatServedAWhileIsNoCrashLoop() {
    assertEquals(-1, backoff.childDied(Duration.ofSeconds(5).toNanos()));
    assertEquals(0, backoff.crashesInARow());
  }

  @Test
  void theLoopEndsOnceAChildSpawnedAfterTheLastCrashServedTenSeconds() {
    backoff.childDied(-1);
    backoff.childDied(-1);
    long spawnedBefore = clock.nanoTime() - 1;
    clock.advance(Duration.ofMillis(200));
    long spawnedAfter = clock.nanoTime();
    clock.advance(Duration.ofSeconds(20));
    assertFalse(backoff.childServing(spawnedBefore), "spawned before the last crash");
    clock.stepBack(Duration.ofSeconds(11));
    assertFalse(backoff.childServing(spawnedAfter), "9 s served");
    clock.advance(Duration.ofSeconds(1));
    assertTrue(backoff.childServing(spawnedAfter), "10 s served");
    assertEquals(0, backoff.crashesInARow());
    assertEquals(0, backoff.childDied(-1), "a new loop starts from the beginning");
  }

  @Test
  void aFailedSpawnWaitsTheLongest() {
    backoff.spawnFailed();
    assertTrue(backoff.backingOff());
    assertEquals(Duration.ofSeconds(10).toNanos(), backoff.remainingNanos());
    clock.advance(Duration.ofSeconds(10));
    assertFalse(backoff.backingOff());
    assertEquals(0, backoff.remainingNanos());
  }
}
