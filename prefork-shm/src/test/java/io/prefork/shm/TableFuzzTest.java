package io.prefork.shm;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.testing.ShmKeysExtension;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Segments no reader may trust ({@link FuzzedTables}: random bytes, zeros, headers with one lie,
 * segments shorter or longer than their header says), attached every way the library attaches a
 * table: as a tool (TableReader), a controller (ControlPort, read-write), a child (ChildTable) and
 * a starting master (MasterTable.create, which may remove a stale table of its own kind). Each must
 * be refused with a StatusTableException naming the key, the value at fault where there is one, and
 * what to do; within a second; without writing to the segment; and the master must leave it in
 * place. The seed is fixed and printed with any failure.
 */
class TableFuzzTest {
  /** Cases to try; the loop also stops after {@link #BUDGET_MILLIS}. */
  private static final int ITERATIONS = 400;

  private static final long BUDGET_MILLIS = 1_500;

  @RegisterExtension final ShmKeysExtension keys = new ShmKeysExtension();

  @Test
  void everyFuzzedSegmentIsRefusedClearlyFastAndLeftInPlace() throws Exception {
    long seed = FuzzedTables.SEED;
    FuzzedTables fuzz = new FuzzedTables(seed);
    TableSpec spec = new TableSpec(2, 1, 1, InetAddress.getLoopbackAddress(), 1, 1);
    int key = keys.newKey();
    long deadline = System.currentTimeMillis() + BUDGET_MILLIS;
    int done = 0;
    for (int i = 0; i < ITERATIONS && System.currentTimeMillis() < deadline; i++) {
      FuzzedTables.Case c = fuzz.next(key);
      String where = c.describe(seed, i);
      try {
        refused(where, c, k -> TableReader.attach(k));
        refused(where, c, k -> ControlPort.attach(k));
        refused(where, c, k -> ChildTable.attach(k, 0, 1));
        refused(where, c, k -> MasterTable.create(k, spec));
        ShmStat after = ShmSegment.stat(key).orElse(null);
        assertNotNull(after, where + ": the segment was removed");
        assertEquals(c.shmid(), after.id(), where + ": the segment was replaced");
        assertEquals(0, after.attachCount(), where + ": an attachment was left behind");
        assertArrayEquals(
            c.image(),
            Arrays.copyOf(FuzzedTables.contents(key), c.image().length),
            where + ": the segment was written to");
      } finally {
        ShmSegment.remove(key);
      }
      done++;
    }
    assertTrue(done >= 50, "only " + done + " cases within " + BUDGET_MILLIS + " ms");
    System.out.println("TableFuzzTest: " + done + " fuzzed segments refused, seed " + seed);
  }

  /**
   * Attaching must fail with a clear StatusTableException, at once: a refusal takes milliseconds,
   * and the bound only catches one that waits for a master that never comes (5 s, not 1: a CI
   * machine running other builds once took more than a second for a refusal).
   */
  private static void refused(String where, FuzzedTables.Case c, IntFunction<AutoCloseable> attach)
      throws Exception {
    long start = System.nanoTime();
    Throwable thrown = null;
    AutoCloseable table = null;
    try {
      table = attach.apply(c.key());
    } catch (Throwable t) {
      thrown = t;
    } finally {
      if (table != null) {
        table.close();
      }
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertNotNull(thrown, where + ": accepted");
    if (!(thrown instanceof StatusTableException)) {
      throw new AssertionError(where + ": refused with " + thrown, thrown);
    }
    String message = thrown.getMessage();
    if (Boolean.getBoolean("prefork.fuzz.print")) {
      System.out.println("MSG " + c.description().replaceAll("[-0-9]+", "N") + " => " + message);
    }
    assertTrue(millis < 5_000, where + ": took " + millis + " ms: " + message);
    assertTrue(
        message.startsWith("shm key " + ShmKeys.toHex(c.key()) + ": "), where + ": " + message);
    assertTrue(
        message.contains("shmKey") || message.contains("retry") || message.contains("ipcrm"),
        where + ": says nothing to do: " + message);
    if (c.mustName() != null) {
      assertTrue(
          message.contains(c.mustName()),
          where + ": does not name " + c.mustName() + ": " + message);
    }
  }
}
