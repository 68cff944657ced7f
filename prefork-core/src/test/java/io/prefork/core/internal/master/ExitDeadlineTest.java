package io.prefork.core.internal.master;

import static io.prefork.core.internal.master.ExitDeadline.Step.*;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ExitDeadlineTest {
  private final FakeClock clock = new FakeClock();
  private final ExitDeadline deadline =
      new ExitDeadline(Duration.ofSeconds(30).toNanos(), Duration.ofSeconds(1).toNanos(), clock);

  @Test
  void gracefulTimeoutThenDumpThenKill() {
    long asked = clock.nanoTime();
    clock.advance(Duration.ofSeconds(29));
    assertEquals(WAIT, deadline.step(asked, 0, false));
    clock.advance(Duration.ofSeconds(1));
    assertEquals(DUMP, deadline.step(asked, 0, false));
    long dumped = clock.nanoTime();
    clock.advance(Duration.ofMillis(999));
    assertEquals(WAIT, deadline.step(asked, dumped, false));
    clock.advance(Duration.ofMillis(1));
    assertEquals(KILL, deadline.step(asked, dumped, false));
  }

  @Test
  void onlyHungConnectionsLeftMeansNoWait() {
    long asked = clock.nanoTime();
    assertEquals(DUMP, deadline.step(asked, 0, true));
  }

  @Test
  void aHungChildDumpedAtOnceWaitsForItsSiblingsThenGoes() {
    long asked = clock.nanoTime();
    long dumped = clock.nanoTime();
    clock.advance(Duration.ofSeconds(5));
    assertEquals(WAIT, deadline.step(asked, dumped, false), "siblings still serving");
    assertEquals(KILL, deadline.step(asked, dumped, true), "only the hung one left");
    clock.advance(Duration.ofSeconds(25));
    assertEquals(KILL, deadline.step(asked, dumped, false), "siblings past the graceful timeout");
  }

  @Test
  void aClockStepBackDoesNotKillEarly() {
    long asked = clock.nanoTime();
    clock.stepBack(Duration.ofHours(2));
    assertEquals(WAIT, deadline.step(asked, 0, false));
    long dumped = clock.nanoTime();
    clock.stepBack(Duration.ofSeconds(5));
    assertEquals(WAIT, deadline.step(asked, dumped, false));
  }
}
