package io.prefork.core.internal.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ThreadStatesTest {
  @Test
  void aThreadKnowsItsKernelIdAndIsRunningWhileItAsks() {
    int tid = ThreadStates.currentTid();
    assertTrue(tid > 0, "tid " + tid);
    assertEquals('R', ThreadStates.state(tid), "the calling thread runs");
  }

  @Test
  void aSleepingThreadIsBlocked() throws Exception {
    AtomicInteger tid = new AtomicInteger();
    CountDownLatch known = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread t =
        new Thread(
            () -> {
              tid.set(ThreadStates.currentTid());
              known.countDown();
              try {
                release.await(10, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                // the test ends
              }
            });
    t.start();
    try {
      assertTrue(known.await(10, TimeUnit.SECONDS));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      char state = ThreadStates.state(tid.get());
      while (ThreadStates.runnable(state) && System.nanoTime() - deadline < 0) {
        Thread.sleep(5); // until it is in its wait
        state = ThreadStates.state(tid.get());
      }
      assertEquals('S', state, "waiting on a latch");
      assertTrue(!ThreadStates.runnable(state));
    } finally {
      release.countDown();
      t.join(10_000);
    }
    // (A thread that is gone may have its id reused at once: the kernel recycles them.)
    assertEquals(ThreadStates.UNKNOWN, ThreadStates.state(Integer.MAX_VALUE), "no such thread");
  }

  @Test
  void theStateIsTheLetterAfterTheCommandWhateverTheCommandHolds() {
    assertEquals('S', ThreadStates.parseState("123 (prefork-worker-1) S 1 2 3"));
    assertEquals('R', ThreadStates.parseState("123 (a) b (c) R 1 2"));
    assertEquals(ThreadStates.UNKNOWN, ThreadStates.parseState("garbage"));
    assertEquals(ThreadStates.UNKNOWN, ThreadStates.state(-1));
  }
}
