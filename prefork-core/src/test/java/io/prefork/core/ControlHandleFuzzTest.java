package io.prefork.core;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.FuzzedTables;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.ShmStat;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Controllers and a starting server on segments they may not trust ({@link FuzzedTables}): {@link
 * ControlHandle#attach} must refuse each with a PreforkException that names the key and says what
 * to do, within a second, without writing to it; a server must refuse to start on one and leave it
 * in place. Also tables that are valid but whose liveness lies: a heartbeat far in the future, a
 * master that is gone. The seed is fixed and printed with any failure.
 */
class ControlHandleFuzzTest {
  private static final int ITERATIONS = 300;
  private static final long BUDGET_MILLIS = 700;

  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void aControllerRefusesEveryFuzzedTableClearlyAndFast() {
    long seed = FuzzedTables.SEED;
    FuzzedTables fuzz = new FuzzedTables(seed);
    int key = cleanup.newKey();
    warmUp(key);
    long deadline = System.currentTimeMillis() + BUDGET_MILLIS;
    int done = 0;
    for (int i = 0; i < ITERATIONS && System.currentTimeMillis() < deadline; i++) {
      FuzzedTables.Case c = fuzz.next(key);
      String where = c.describe(seed, i);
      try {
        String message = refused(where, () -> ControlHandle.attach(key));
        if (c.mustName() != null) {
          assertTrue(message.contains(c.mustName()), where + ": does not name it: " + message);
        }
        unchanged(where, key, c.shmid(), c.image());
      } finally {
        ShmSegment.remove(key);
      }
      done++;
    }
    assertTrue(done >= 20, "only " + done + " cases within " + BUDGET_MILLIS + " ms");
  }

  /**
   * One refusal before the timed ones: the first attach of a JVM loads the classes of the whole
   * path (jffi, the table, the exceptions), which on a loaded machine alone can take a second.
   */
  private static void warmUp(int key) {
    FuzzedTables.create(key, new byte[64]);
    try {
      assertThrows(PreforkException.class, () -> ControlHandle.attach(key));
    } finally {
      ShmSegment.remove(key);
    }
  }

  @Test
  void aControllerRefusesAHeartbeatFarAheadAndAGoneMasterButAttachesAValidTable() {
    int key = cleanup.newKey();
    warmUp(key);
    int self = (int) ProcessHandle.current().pid();
    long now = System.currentTimeMillis();
    for (long heartbeat : new long[] {Long.MAX_VALUE, now + 3_600_000, now + 10_000}) {
      ByteBuffer image = FuzzedTables.validImage(2, self, heartbeat);
      int id = FuzzedTables.create(key, image.array());
      try {
        String message = refused("heartbeat " + heartbeat, () -> ControlHandle.attach(key));
        assertTrue(message.contains("ahead of this host's clock"), message);
        assertTrue(message.contains(String.valueOf(heartbeat)), message);
        unchanged("heartbeat " + heartbeat, key, id, image.array());
      } finally {
        ShmSegment.remove(key);
      }
    }
    ByteBuffer gone = FuzzedTables.validImage(2, FuzzedTables.deadPid(), now - 60_000);
    FuzzedTables.create(key, gone.array());
    try {
      String message = refused("a gone master", () -> ControlHandle.attach(key));
      assertTrue(message.contains("is gone: master pid " + FuzzedTables.deadPid()), message);
    } finally {
      ShmSegment.remove(key);
    }
    // The same header with a live master and a fresh heartbeat is a server to talk to.
    FuzzedTables.create(key, FuzzedTables.validImage(2, self, now).array());
    try (ControlHandle control = ControlHandle.attach(key)) {
      ServerStatus status = control.status();
      assertEquals(self, status.masterPid());
      assertEquals("127.0.0.1", status.listenAddress());
      assertEquals(0, status.workers().size());
    } finally {
      ShmSegment.remove(key);
    }
  }

  @Test
  void aServerRefusesToStartOnAFuzzedTableAndLeavesIt() {
    long seed = FuzzedTables.SEED + 1;
    FuzzedTables fuzz = new FuzzedTables(seed);
    PreforkServer.Builder builder = cleanup.builder(TestJob.class);
    int key = builder.build().shmKey();
    for (int i = 0; i < 4; i++) {
      FuzzedTables.Case c = fuzz.next(key);
      String where = c.describe(seed, i);
      try {
        long start = System.nanoTime();
        PreforkException e =
            assertThrows(PreforkException.class, () -> cleanup.start(builder), where);
        long millis = (System.nanoTime() - start) / 1_000_000;
        String message = e.getMessage();
        assertTrue(
            message.startsWith("cannot start: shm key " + ShmKeys.toHex(key)),
            where + ": " + message);
        assertTrue(
            message.contains("shmKey") || message.contains("retry") || message.contains("ipcrm"),
            where + ": says nothing to do: " + message);
        assertTrue(millis < 3_000, where + ": took " + millis + " ms");
        unchanged(where, key, c.shmid(), c.image());
      } finally {
        ShmSegment.remove(key);
      }
    }
  }

  /** The attempt fails with a PreforkException within a second; returns its message. */
  private static String refused(String where, Supplier<ControlHandle> attach) {
    long start = System.nanoTime();
    ControlHandle handle = null;
    Throwable thrown = null;
    try {
      handle = attach.get();
    } catch (Throwable t) {
      thrown = t;
    } finally {
      if (handle != null) {
        handle.close();
      }
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertNotNull(thrown, where + ": accepted");
    if (!(thrown instanceof PreforkException)) {
      throw new AssertionError(where + ": refused with " + thrown, thrown);
    }
    String message = thrown.getMessage();
    assertTrue(millis < 1_000, where + ": took " + millis + " ms: " + message);
    assertTrue(message.contains("shm key 0x"), where + ": names no key: " + message);
    assertTrue(
        message.contains("shmKey")
            || message.contains("retry")
            || message.contains("ipcrm")
            || message.contains("start again")
            || message.contains("takes over"),
        where + ": says nothing to do: " + message);
    return message;
  }

  private static void unchanged(String where, int key, int shmid, byte[] image) {
    ShmStat after = ShmSegment.stat(key).orElse(null);
    assertNotNull(after, where + ": the segment was removed");
    assertEquals(shmid, after.id(), where + ": the segment was replaced");
    assertEquals(0, after.attachCount(), where + ": an attachment was left behind");
    assertArrayEquals(
        image,
        Arrays.copyOf(FuzzedTables.contents(key), image.length),
        where + ": the segment was written to");
  }
}
