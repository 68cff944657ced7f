package io.prefork.core.internal.child;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.prefork.core.internal.child.AcceptingThreads.Sample;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AcceptingThreadsTest {
  private static final long TICK = TimeUnit.MILLISECONDS.toNanos(100);
  private long now;
  private final AcceptingThreads threads = new AcceptingThreads(8, 64, () -> now);

  /** A tick with 10 connections queued: "moved" accepts 100 of them, otherwise none. */
  private int tick(int busy, boolean moved, double cpu) {
    return tick(new Sample(busy, moved ? 100 : 0, 10, cpu));
  }

  private int tick(Sample s) {
    now += TICK;
    return threads.decide(s);
  }

  @Test
  void aSlowStartRampsFromOneThreadToTheMinimumThenFollowsTheRules() {
    long sixSeconds = TimeUnit.SECONDS.toNanos(6);
    AcceptingThreads ramp = new AcceptingThreads(8, 64, sixSeconds, () -> now);
    assertEquals(1, ramp.accepting(), "one thread before the workers start");
    now += TimeUnit.SECONDS.toNanos(30); // the JVM's start and the job's open() are not the ramp
    assertEquals(1, ramp.decide(new Sample(1, 100, 10, 0.99)));
    ramp.workersStarted();
    now += TimeUnit.SECONDS.toNanos(3);
    assertEquals(4, ramp.decide(new Sample(4, 100, 10, 0.99)), "1 + 7 * 3/6");
    // Busy threads and a queue that does not move are no reason for more while it ramps.
    for (int i = 0; i < 20; i++) {
      now += TICK;
      assertEquals(1 + 7 * (3_000 + 100 * (i + 1)) / 6_000, ramp.decide(new Sample(8, 0, 50, 0.3)));
    }
    now += sixSeconds; // past the end
    assertEquals(8, ramp.decide(new Sample(8, 0, 50, 0.99)), "over: at the minimum");
    now += TICK;
    assertEquals(64, ramp.decide(new Sample(8, 0, 50, 0.99)), "then the rules: stuck twice");
  }

  @Test
  void noSlowStartWithZeroAndANegativeOneIsRefused() {
    AcceptingThreads none = new AcceptingThreads(8, 64, 0, () -> now);
    assertEquals(8, none.accepting());
    none.workersStarted();
    assertEquals(8, none.decide(new Sample(0, 0, 0, 0.2)));
    assertThrows(IllegalArgumentException.class, () -> new AcceptingThreads(8, 64, -1, () -> now));
  }

  @Test
  void startsWithTheMinimum() {
    assertEquals(8, threads.accepting());
  }

  @Test
  void allBusyOnTwoTicksDoublesUpToTheMaximum() {
    assertEquals(8, tick(8, true, 0.3), "one tick is not enough");
    assertEquals(16, tick(8, true, 0.3));
    assertEquals(16, tick(16, true, 0.3));
    assertEquals(32, tick(16, true, 0.3));
    tick(32, true, 0.3);
    assertEquals(64, tick(32, true, 0.3));
    tick(64, true, 0.3);
    assertEquals(64, tick(64, true, 0.3), "never beyond the child's threads");
  }

  @Test
  void aTickWithAnAcceptingThreadFreeStartsTheCountAgain() {
    tick(8, true, 0.3);
    tick(7, true, 0.3);
    assertEquals(8, tick(8, true, 0.3));
    assertEquals(16, tick(8, true, 0.3));
  }

  @Test
  void busyCoresHoldWhileTheWorkMoves() {
    for (int i = 0; i < 50; i++) {
      assertEquals(8, tick(8, true, 0.95), "a CPU-bound job: more threads only compete");
    }
  }

  @Test
  void workThatDoesNotMoveTakesEveryThreadAtOnceWhateverTheCores() {
    assertEquals(8, tick(8, false, 0.99), "one quiet tick is not enough");
    assertEquals(64, tick(8, false, 0.99), "long conversations hold every thread");
  }

  @Test
  void aQuietTickBetweenMovingOnesIsNoReasonToTakeEveryThread() {
    for (int i = 0; i < 50; i++) {
      assertEquals(8, tick(8, i % 2 == 0, 0.95), "tick " + i);
    }
  }

  @Test
  void aThreadFreeIsNoReasonEvenWhenNothingMoves() {
    for (int i = 0; i < 20; i++) {
      assertEquals(8, tick(7, false, 0.1));
    }
  }

  @Test
  void allHeldWithNobodyWaitingIsNoReasonToTakeEveryThread() {
    for (int i = 0; i < 20; i++) {
      assertEquals(8, tick(new Sample(8, 0, 0, 0.99)), "long conversations, nobody queued");
    }
  }

  @Test
  void aQueueTakenFastIsNotStuck() {
    for (int i = 0; i < 20; i++) {
      assertEquals(8, tick(new Sample(8, 2_000, 34, 0.95)), "hello on busy cores");
    }
  }

  @Test
  void aQueueTooLongForTheAcceptRateIsStuckWhateverTheCores() {
    tick(new Sample(8, 3, 184, 0.99));
    assertEquals(64, tick(new Sample(8, 3, 184, 0.99)), "keep-alive clients that rarely reconnect");
  }

  @Test
  void withTheQueueUnknownNothingAcceptedIsStuck() {
    tick(new Sample(8, 0, -1, 0.99));
    assertEquals(64, tick(new Sample(8, 0, -1, 0.99)));
    assertEquals(false, new Sample(8, 1, -1, 0.99).stuck());
  }

  @Test
  void unknownCpuLoadDoesNotHold() {
    tick(8, true, -1);
    assertEquals(16, tick(8, true, -1));
  }

  @Test
  void halvesOnlyAfterTenSecondsInWhichAQuarterSufficed() {
    grow(64);
    long ticks = AcceptingThreads.SHRINK_AFTER_NANOS / TICK;
    for (int i = 1; i < ticks; i++) {
      assertEquals(64, tick(16, true, 0.3), "tick " + i);
    }
    assertEquals(32, tick(16, true, 0.3), "16 of 64 busy at most for 10 s");
    for (int i = 1; i < ticks; i++) {
      assertEquals(32, tick(8, true, 0.3));
    }
    assertEquals(16, tick(8, true, 0.3));
    for (int i = 0; i < 3 * ticks; i++) {
      tick(0, false, 0.0);
    }
    assertEquals(8, threads.accepting(), "never below the minimum");
  }

  @Test
  void aSteadyLoadBetweenAQuarterAndAllMovesNothing() {
    grow(32);
    for (int i = 0; i < 1_000; i++) {
      assertEquals(32, tick(i % 2 == 0 ? 9 : 31, true, 0.5), "tick " + i);
    }
  }

  @Test
  void growingStartsTheShrinkWindowAgain() {
    long ticks = AcceptingThreads.SHRINK_AFTER_NANOS / TICK;
    for (int i = 0; i < ticks - 3; i++) {
      tick(0, false, 0.1);
    }
    grow(16);
    tick(4, true, 0.1);
    tick(4, true, 0.1);
    assertEquals(16, tick(4, true, 0.1), "the window began at the growth, not before it");
  }

  @Test
  void minEqualToMaxNeverMoves() {
    AcceptingThreads fixed = new AcceptingThreads(4, 4, () -> now);
    for (int i = 0; i < 300; i++) {
      now += TICK;
      assertEquals(4, fixed.decide(new Sample(i % 3 == 0 ? 0 : 4, i % 2, 10, 0.1)));
    }
  }

  @Test
  void refusesAMinimumOutsideOneToMax() {
    assertThrows(IllegalArgumentException.class, () -> new AcceptingThreads(0, 4, () -> now));
    assertThrows(IllegalArgumentException.class, () -> new AcceptingThreads(5, 4, () -> now));
  }

  private void grow(int to) {
    while (threads.accepting() < to) {
      tick(threads.accepting(), true, 0.3);
    }
    assertEquals(to, threads.accepting());
  }

  @Test
  void busyThreadsThatWaitWithNobodyQueuedHoldOnBusyCores() {
    for (int i = 0; i < 20; i++) {
      assertEquals(8, tick(new Sample(8, 100, 0, 0.99, 8, 8)), "nobody waits for a thread");
    }
  }

  @Test
  void busyThreadsThatWaitWithAShortQueueHoldOnBusyCores() {
    for (int i = 0; i < 20; i++) {
      assertEquals(
          8,
          tick(new Sample(8, 1_500, 40, 0.99, 8, 7)),
          "hello: blocked in reads for clients that have no core yet; the queue goes fast");
    }
  }

  @Test
  void busyThreadsThatWaitTakeAThreadForEveryConnectionQueued() {
    // The wait job's burst: 8 threads asleep, 40 accepted a tick, 50 queued (the client's cores).
    Sample burst = new Sample(8, 40, 50, 0.99, 8, 8);
    assertEquals(8, tick(burst), "one tick is not enough");
    assertEquals(58, tick(burst), "8 busy and 50 queued: 58, not 16");
    tick(new Sample(58, 200, 500, 0.99, 16, 16));
    assertEquals(
        64, tick(new Sample(58, 200, 500, 0.99, 16, 16)), "never beyond the child's threads");
  }

  @Test
  void busyThreadsThatWaitOnIdleCoresDoubleAtLeast() {
    Sample few = new Sample(8, 40, 41, 0.3, 8, 8);
    tick(few);
    assertEquals(49, tick(few));
    Sample one = new Sample(49, 400, 1, 0.3, 8, 8);
    tick(one);
    assertEquals(64, tick(one), "idle cores: doubling, as for any job");
  }

  @Test
  void busyThreadsThatComputeHoldOnBusyCores() {
    for (int i = 0; i < 20; i++) {
      assertEquals(8, tick(new Sample(8, 100, 5, 0.99, 8, 5)), "5 of 8 blocked: they compute");
    }
  }

  @Test
  void aQueueIsTakenInOneStepOnlyByThreadsThatWait() {
    tick(new Sample(8, 100, 150, 0.5, 8, 1));
    assertEquals(16, tick(new Sample(8, 100, 150, 0.5, 8, 1)), "computing threads double");
  }

  @Test
  void threeQuartersBlockedIsWaiting() {
    assertEquals(true, new Sample(8, 1, 0, 0.9, 8, 6).waiting());
    assertEquals(false, new Sample(8, 1, 0, 0.9, 8, 5).waiting());
    assertEquals(false, new Sample(8, 1, 0, 0.9).waiting(), "no state read: not known to wait");
  }
}
