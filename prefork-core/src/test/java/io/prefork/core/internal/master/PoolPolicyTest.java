package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.core.internal.master.PoolPolicy.Decision;
import io.prefork.core.internal.master.PoolPolicy.Sample;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PoolPolicyTest {
  private static final int THREADS = 32;
  private final FakeClock clock = new FakeClock();

  /** max 8 children of 32 workers, minSpare 1, maxSpare 64, idle timeout 10 s. */
  private final PoolPolicy policy =
      new PoolPolicy(8, THREADS, 1, 64, Duration.ofSeconds(10).toNanos(), 0, clock);

  private Decision tick(int live, int starting, int idle, int queued) {
    clock.advance(Duration.ofMillis(50));
    return policy.decide(new Sample(live, starting, idle, queued, 2));
  }

  @Test
  void growsExponentiallyWhileAllBusyAndTheQueueHolds() {
    PoolPolicy wide =
        new PoolPolicy(16, THREADS, 1, 64, Duration.ofSeconds(10).toNanos(), 0, clock);
    Decision first = wide.decide(new Sample(2, 0, 0, 400, 2));
    assertEquals(1, first.spawn(), "first tick: one child");
    assertTrue(first.reason().contains("queue 400"), first.reason());
    assertEquals(2, wide.decide(new Sample(3, 1, 0, 400, 2)).spawn(), "then two");
    assertEquals(4, wide.decide(new Sample(5, 3, 0, 400, 2)).spawn(), "then four");
    assertEquals(
        6, wide.decide(new Sample(9, 7, 0, 400, 2)).spawn(), "8 allowed, 6 cover the rest");
    assertEquals(1, tick(7, 0, 0, 400).spawn(), "within maxChildren 8 (one left)");
  }

  @Test
  void growthCoversTheQueueAndNoMore() {
    // 40 waiting, nobody idle: 41 workers short, two children; the next tick counts them starting.
    Decision d = tick(2, 0, 0, 40);
    assertEquals(1, d.spawn(), "bounded by the rate on the first tick");
    assertEquals(1, tick(3, 1, 0, 40).spawn(), "one more covers 41 with the starting one");
    assertFalse(tick(4, 2, 0, 40).changes(), "two starting children cover the queue");
  }

  @Test
  void neverBeyondMaxChildren() {
    for (int i = 0; i < 5; i++) {
      tick(2, 0, 0, 500);
    }
    assertEquals(1, tick(7, 0, 0, 500).spawn(), "one slot of room left");
    assertFalse(tick(8, 0, 0, 500).changes(), "at max");
  }

  @Test
  void aQueueWithIdleWorkersIsNoReasonToGrow() {
    // CPU-bound hello at c=200: connections wait, but workers are idle: more JVMs would not help.
    assertFalse(tick(2, 0, 20, 150).changes());
  }

  @Test
  void busyCoresHoldTheGrowthWhileTheQueueMoves() {
    // CPU-bound work with every worker busy: a cold JVM would find no core to run on.
    Decision held = policy.decide(new Sample(2, 0, 0, 72, 2, 0.97, true));
    assertFalse(held.changes());
    assertTrue(held.held());
    assertTrue(
        held.reason().contains("queue 72") && held.reason().contains("97% busy"), held.reason());
    assertFalse(
        policy.decide(new Sample(2, 0, 0, 72, 2, 0.90, true)).changes(), "at the threshold");
    // The shortage while held does not speed up the growth once the cores have time again.
    assertEquals(1, policy.decide(new Sample(2, 0, 0, 400, 2, 0.5, true)).spawn(), "rate 1 again");
  }

  @Test
  void aQueueThatDoesNotMoveGrowsThePoolThoughTheCoresAreBusy() {
    // Long conversations hold every worker and nobody accepts: the queue would wait for ever.
    assertEquals(1, policy.decide(new Sample(2, 0, 0, 72, 2, 0.99, false)).spawn());
  }

  @Test
  void busyCoresNeitherHoldTheFloorNorMatterWhenTheyAreUnknown() {
    assertEquals(2, fresh().decide(new Sample(0, 0, 0, 0, 2, 1.0, true)).spawn(), "the floor");
    assertEquals(1, fresh().decide(new Sample(2, 0, 0, 40, 2, -1, true)).spawn(), "unknown load");
    assertEquals(1, fresh().decide(new Sample(2, 0, 0, 40, 2, 0.89, true)).spawn(), "below 90 %");
  }

  private PoolPolicy fresh() {
    return new PoolPolicy(8, THREADS, 1, 64, Duration.ofSeconds(10).toNanos(), 0, clock);
  }

  @Test
  void atMaxChildrenNothingIsHeld() {
    Decision d = policy.decide(new Sample(8, 0, 0, 40, 2, 0.99, true));
    assertFalse(d.changes());
    assertFalse(d.held(), "no room: nothing to hold back, nothing to log");
  }

  @Test
  void aShortageGrowsThePoolOnlyOnceItLasted() {
    PoolPolicy patient =
        new PoolPolicy(8, THREADS, 1, 64, Duration.ofSeconds(10).toNanos(), 500_000_000L, clock);
    assertFalse(patient.decide(new Sample(2, 0, 0, 72, 2, -1, true)).changes(), "just began");
    clock.advance(Duration.ofMillis(450));
    assertFalse(patient.decide(new Sample(2, 0, 0, 72, 2, -1, true)).changes(), "450 ms");
    clock.advance(Duration.ofMillis(50));
    assertEquals(1, patient.decide(new Sample(2, 0, 0, 72, 2, -1, true)).spawn(), "500 ms");
    // Over: a new shortage waits again; the floor never waits.
    clock.advance(Duration.ofMillis(50));
    assertFalse(patient.decide(new Sample(3, 1, 0, 0, 2, -1, true)).changes(), "covered");
    clock.advance(Duration.ofMillis(50));
    assertFalse(patient.decide(new Sample(3, 0, 0, 40, 2, -1, true)).changes(), "a new one");
    assertEquals(2, patient.decide(new Sample(0, 0, 0, 0, 2, -1, true)).spawn(), "the floor");
  }

  @Test
  void keepsTheFloor() {
    Decision d = policy.decide(new Sample(0, 0, 0, 0, 2));
    assertEquals(2, d.spawn());
    assertTrue(d.reason().contains("at least 2"), d.reason());
  }

  @Test
  void retiresOnlyAfterTheIdleTimeoutThenOnePerSecond() {
    // 5 children, all idle: 160 idle, 128 without one child >= maxSpare 64.
    for (int i = 0; i < 200; i++) {
      assertFalse(tick(5, 0, 160, 0).changes(), "tick " + i + " is within the 10 s");
    }
    Decision retire = tick(5, 0, 160, 0);
    assertTrue(retire.retire(), "after 10 s");
    assertTrue(retire.reason().startsWith("retired: 160 idle for 10 s"), retire.reason());
    for (int i = 0; i < 19; i++) {
      assertFalse(tick(4, 0, 128, 0).changes(), "the next one waits a second");
    }
    assertTrue(tick(4, 0, 128, 0).retire(), "one more after a second");
    assertFalse(tick(3, 0, 96, 0).changes(), "96 - 32 = 64: still allowed in principle");
  }

  @Test
  void aSteadyLoadBetweenMinSpareAndMaxSpareNeverChurns() {
    // 7 children (224 workers) under a load that keeps 150 to 200 busy: idle moves between 24 and
    // 74, never low enough to grow (minSpare 1) nor high enough to retire (64 + 32).
    int spawns = 0;
    int retirements = 0;
    for (int i = 0; i < 20 * 60; i++) { // 60 s of ticks
      int idle = 24 + (i * 7919) % 51;
      Decision d = tick(7, 0, idle, i % 3);
      spawns += d.spawn();
      retirements += d.retire() ? 1 : 0;
    }
    assertEquals(0, spawns);
    assertEquals(0, retirements);
  }

  @Test
  void aDipInTheSurplusStartsTheIdleTimeoutAgain() {
    for (int i = 0; i < 150; i++) {
      tick(5, 0, 160, 0);
    }
    tick(5, 0, 60, 0); // busy again for a moment
    for (int i = 0; i < 200; i++) {
      assertFalse(tick(5, 0, 160, 0).changes(), "tick " + i);
    }
    assertTrue(tick(5, 0, 160, 0).retire());
  }

  @Test
  void aClockSteppingBackDoesNotRetireEarly() {
    tick(5, 0, 160, 0);
    clock.stepBack(Duration.ofHours(1));
    for (int i = 0; i < 100; i++) {
      assertFalse(tick(5, 0, 160, 0).changes());
    }
  }

  @Test
  void neverRetiresBelowTheFloorOrWhileChildrenStart() {
    for (int i = 0; i < 400; i++) {
      assertFalse(policy.decide(new Sample(2, 0, 64, 0, 2)).changes(), "at the floor");
      clock.advance(Duration.ofMillis(50));
    }
    for (int i = 0; i < 400; i++) {
      assertFalse(tick(5, 1, 160, 0).changes(), "a child is starting");
    }
  }
}
