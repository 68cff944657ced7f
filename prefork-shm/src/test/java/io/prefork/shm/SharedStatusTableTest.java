package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;
import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.testing.ShmKeysExtension;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.bytes.BytesStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SharedStatusTableTest {
  @RegisterExtension final ShmKeysExtension keys = new ShmKeysExtension();

  static TableSpec spec(int max) throws Exception {
    return new TableSpec(max, 1, 1, InetAddress.getByName("127.0.0.1"), 6905, 128);
  }

  @Test
  void everyFieldRoundTripsFromItsWriterToAReader() throws Exception {
    int key = keys.newKey();
    TableSpec spec = new TableSpec(3, 2, 2, InetAddress.getByName("::1"), 18080, 511);
    try (MasterTable master = MasterTable.create(key, spec);
        ChildTable child = ChildTable.attach(key, 2, 2);
        TableReader reader = TableReader.attach(key)) {
      assertEquals(6, master.slotCount());
      assertEquals(SharedStatusTable.segmentSize(6), master.stat().size());

      master.masterState(MasterState.RUNNING);
      master.heartbeat(1_000_123);
      master.generation(7);
      master.countSpawn();
      master.countSpawn();
      master.countCrash();
      master.countRestart();
      master.listenQueue(5, 511);
      master.spawnBackoffUntil(9_999);
      master.retireCalls(40);
      master.retireCalls(2);
      master.callRate(12.5, 1_000);
      master.reserve(2, 0, 7, 500);
      master.reserve(3, 1, 7, 501);
      master.pid(2, 4242);
      master.pid(3, 4242);

      WorkerSlot w0 = child.worker(0);
      WorkerSlot w1 = child.worker(1);
      assertEquals(2, w0.slot());
      w0.markIdle(600);
      w0.markBusy(700);
      w0.markIdle(800);
      w0.markBusy(900);
      w1.markIdle(650);
      w1.markExiting(660);
      assertTrue(master.requestExit(3, ExitRequest.RECYCLE));
      assertFalse(master.requestExit(3, ExitRequest.STOP), "first reason must stick");
      assertTrue(w1.exitRequested());
      assertEquals(ExitRequest.RECYCLE, w1.exitRequest());
      assertFalse(w0.exitRequested());

      TableSnapshot s = reader.snapshot();
      assertEquals(key, s.key());
      assertEquals(ProcessHandle.current().pid(), s.masterPid());
      assertEquals(MasterState.RUNNING, s.masterState());
      assertEquals(1_000_123, s.heartbeatMillis());
      assertEquals(7, s.generation());
      assertEquals(2, s.minChildren());
      assertEquals(3, s.maxChildren());
      assertEquals(2, s.workersPerChild());
      assertEquals(2, s.spawns());
      assertEquals(1, s.crashes());
      assertEquals(1, s.restarts());
      assertEquals(5, s.listenQueue());
      assertEquals(511, s.listenBacklog());
      assertEquals(18080, s.listenPort());
      assertEquals("0:0:0:0:0:0:0:1", s.listenAddress());
      assertEquals(9_999, s.spawnBackoffUntilMillis());
      assertEquals(42, s.retiredCalls());
      assertEquals(12.5, s.callsPerSecond());
      assertEquals(1_000, s.rateIntervalMillis());
      assertEquals(0, s.pendingCommands());
      assertTrue(s.masterStartMillis() > 0);
      assertEquals(6, s.slots().size());
      assertEquals(2, s.usedSlots().size());

      SlotSnapshot a = s.slots().get(2);
      assertEquals(
          new SlotSnapshot(2, SlotState.BUSY, 4242, 0, 7, 2, 900, 500, ExitRequest.NONE), a);
      SlotSnapshot b = s.slots().get(3);
      assertEquals(
          new SlotSnapshot(3, SlotState.EXITING, 4242, 1, 7, 0, 660, 501, ExitRequest.RECYCLE), b);
      assertEquals(SlotState.UNUSED, s.slots().get(0).state());
      assertEquals(1, s.count(SlotState.BUSY));
      assertEquals(2, s.totalCalls());
      assertEquals(44, s.allCalls());
      assertEquals(2, master.calls(2));
      assertEquals(900, master.stateSinceMillis(2));
      assertEquals(100, a.millisInState(1000));

      master.release(3, 1_000);
      SlotSnapshot released = reader.readSlot(3);
      assertEquals(SlotState.UNUSED, released.state());
      assertEquals(0, released.pid());
      assertEquals(1_000, released.stateSinceMillis());
    }
    assertTrue(ShmSegment.stat(key).isEmpty(), "closing the master removes the segment");
  }

  @Test
  void thePoolsLastDecisionReachesReaders() throws Exception {
    int key = keys.newKey();
    try (MasterTable master = MasterTable.create(key, spec(2));
        TableReader reader = TableReader.attach(key)) {
      assertEquals(PoolDecision.NONE, reader.snapshot().poolDecision());
      assertEquals("", reader.snapshot().poolDecision().describe());
      master.poolDecision(new PoolDecision(PoolDecision.Kind.GREW, 2, 0, 137, 0, 1_000));
      PoolDecision grew = reader.snapshot().poolDecision();
      assertEquals(new PoolDecision(PoolDecision.Kind.GREW, 2, 0, 137, 0, 1_000), grew);
      assertEquals("grew by 2: 0 idle, queue 137", grew.describe());
      master.poolDecision(new PoolDecision(PoolDecision.Kind.RETIRED, 1, 256, 0, 12_400, 2_000));
      assertEquals("retired 1: 256 idle for 12 s", reader.snapshot().poolDecision().describe());
    }
  }

  @Test
  void commandsArePostedAndTakenInSequence() throws Exception {
    int key = keys.newKey();
    try (MasterTable master = MasterTable.create(key, spec(2));
        ControlPort port = ControlPort.attach(key)) {
      assertEquals(Command.NONE, master.takeCommand());
      long seq = port.post(Command.RESTART);
      assertEquals(1, seq);
      assertEquals(1, port.snapshot().pendingCommands());
      assertEquals(Command.RESTART, master.takeCommand());
      assertEquals(Command.NONE, master.takeCommand(), "a command is taken once");
      assertTrue(port.awaitTaken(seq, java.time.Duration.ofSeconds(1)));
      assertEquals(2, port.post(Command.WAIT_DOWN));
      assertEquals(Command.WAIT_DOWN, master.takeCommand());
      assertThrows(IllegalArgumentException.class, () -> port.post(Command.NONE));
    }
  }

  @Test
  void aReaderIsReadOnlyAndRefusesASlotOutsideTheTable() throws Exception {
    int key = keys.newKey();
    try (MasterTable master = MasterTable.create(key, spec(2));
        TableReader reader = TableReader.attach(key)) {
      assertTrue(reader.segment.isReadOnly());
      StatusTableException e = assertThrows(StatusTableException.class, () -> reader.readSlot(2));
      assertEquals(StatusTableException.Reason.NO_SUCH_SLOT, e.reason());
      assertTrue(e.getMessage().contains("slot 2 is outside the table's 2 slots"), e.getMessage());
      assertThrows(StatusTableException.class, () -> ChildTable.attach(key, 1, 2));
    }
  }

  @Test
  void aClosedTableFailsInsteadOfTouchingUnmappedMemory() throws Exception {
    int key = keys.newKey();
    try (MasterTable master = MasterTable.create(key, spec(2))) {
      TableReader reader = TableReader.attach(key);
      reader.close();
      assertThrows(IllegalStateException.class, reader::snapshot);
      ChildTable child = ChildTable.attach(key, 0, 1);
      WorkerSlot slot = child.worker(0);
      child.close();
      assertThrows(IllegalStateException.class, () -> slot.markBusy(1));
    }
  }

  @Test
  void refusesAMissingSegment() {
    int key = keys.newKey();
    ShmException e = assertThrows(ShmException.class, () -> TableReader.attach(key));
    assertEquals("ENOENT", e.errnoName());
  }

  @Test
  void refusesWrongMagic() {
    int key = keys.newKey();
    try (ShmSegment raw = ShmSegment.create(key, segmentSize(4))) {
      BytesStore<?, ?> b = BytesStore.wrap(raw.address(), raw.size());
      b.writeLong(MAGIC_OFFSET, 0x1122334455667788L);
      b.writeInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
      StatusTableException e =
          assertThrows(StatusTableException.class, () -> TableReader.attach(key));
      assertEquals(StatusTableException.Reason.FOREIGN, e.reason());
      assertTrue(e.getMessage().contains("0x1122334455667788"), e.getMessage());
      assertTrue(e.getMessage().contains("another program"), e.getMessage());
      // A master never removes a segment that is not a prefork table.
      StatusTableException m =
          assertThrows(StatusTableException.class, () -> MasterTable.create(key, spec(4)));
      assertEquals(StatusTableException.Reason.FOREIGN, m.reason());
      assertTrue(ShmSegment.stat(key).isPresent());
    }
  }

  @Test
  void refusesAnotherLayoutVersion() throws Exception {
    int key = keys.newKey();
    try (MasterTable master = MasterTable.create(key, spec(2))) {
      master.store().writeVolatileInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION + 1);
      StatusTableException e =
          assertThrows(StatusTableException.class, () -> TableReader.attach(key));
      assertEquals(StatusTableException.Reason.VERSION_MISMATCH, e.reason());
      assertTrue(
          e.getMessage().contains("layout version is " + (LAYOUT_VERSION + 1)), e.getMessage());
    }
  }

  @Test
  void refusesATableNotReadyYet() throws Exception {
    int key = keys.newKey();
    try (ShmSegment raw = ShmSegment.create(key, segmentSize(4))) {
      StatusTableException e =
          assertThrows(StatusTableException.class, () -> TableReader.attach(key));
      assertEquals(StatusTableException.Reason.NOT_READY, e.reason());
    }
  }

  @Test
  void refusesSlotCountsBeyondTheSegmentAndWrongSlotSizes() throws Exception {
    int key = keys.newKey();
    try (MasterTable master = MasterTable.create(key, spec(2))) {
      master.store().writeInt(SLOT_COUNT_OFFSET, 3);
      StatusTableException e =
          assertThrows(StatusTableException.class, () -> TableReader.attach(key));
      assertEquals(StatusTableException.Reason.SIZE_MISMATCH, e.reason());
      assertTrue(e.getMessage().contains("claims 3 slots"), e.getMessage());
      master.store().writeInt(SLOT_COUNT_OFFSET, 2);
      master.store().writeInt(SLOT_SIZE_OFFSET, 64);
      e = assertThrows(StatusTableException.class, () -> TableReader.attach(key));
      assertEquals(StatusTableException.Reason.SIZE_MISMATCH, e.reason());
      master.store().writeInt(SLOT_SIZE_OFFSET, SLOT_SIZE);
      TableReader.attach(key).close();
    }
  }

  @Test
  void refusesASegmentThatIsTooSmallOrNotMode0600() {
    int key = keys.newKey();
    try (ShmSegment raw = ShmSegment.create(key, 64)) {
      StatusTableException e =
          assertThrows(StatusTableException.class, () -> TableReader.attach(key));
      assertEquals(StatusTableException.Reason.FOREIGN, e.reason());
    }
    ShmSegment.remove(key);
    int id = Native.libc().shmget(key, segmentSize(2), Native.IPC_CREAT | Native.IPC_EXCL | 0644);
    assertTrue(id >= 0);
    StatusTableException e =
        assertThrows(StatusTableException.class, () -> TableReader.attach(key));
    assertEquals(StatusTableException.Reason.NOT_OURS, e.reason());
    assertTrue(e.getMessage().contains("mode is 0644"), e.getMessage());
  }

  @Test
  void aSecondMasterOnALiveTableIsRefusedAndTheFirstKeepsIt() throws Exception {
    int key = keys.newKey();
    try (MasterTable first = MasterTable.create(key, spec(2))) {
      first.heartbeat(System.currentTimeMillis());
      StatusTableException e =
          assertThrows(StatusTableException.class, () -> MasterTable.create(key, spec(2)));
      assertEquals(StatusTableException.Reason.LIVE_OWNER, e.reason());
      assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
      assertTrue(e.getMessage().contains("ControlHandle.waitDown()"), e.getMessage());
      first.generation(3);
      try (TableReader r = TableReader.attach(key)) {
        assertEquals(3, r.generation());
      }
    }
  }

  @Test
  void aStaleTableWhoseMasterIsGoneIsTakenOver() throws Exception {
    int key = keys.newKey();
    Process gone = new ProcessBuilder("true").start();
    assertTrue(gone.waitFor(10, TimeUnit.SECONDS));
    int deadPid = (int) gone.pid();
    try (ShmSegment raw = ShmSegment.create(key, segmentSize(2))) {
      BytesStore<?, ?> b = BytesStore.wrap(raw.address(), raw.size());
      writeHeader(b, 2, deadPid, System.currentTimeMillis() - 60_000);
      b.writeLong(GENERATION_OFFSET, 99);
      b.writeVolatileInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
    }
    int oldId = ShmSegment.stat(key).orElseThrow().id();
    try (MasterTable master = MasterTable.create(key, spec(3))) {
      assertNotEquals(oldId, master.stat().id());
      assertEquals(0, master.generation());
      assertEquals(3, master.slotCount());
    }
  }

  @Test
  void aStaleTableStillAttachedIsRefusedAfterTheGracePeriod() throws Exception {
    int key = keys.newKey();
    Process gone = new ProcessBuilder("true").start();
    assertTrue(gone.waitFor(10, TimeUnit.SECONDS));
    try (ShmSegment raw = ShmSegment.create(key, segmentSize(2))) {
      BytesStore<?, ?> b = BytesStore.wrap(raw.address(), raw.size());
      writeHeader(b, 2, (int) gone.pid(), System.currentTimeMillis() - 60_000);
      b.writeVolatileInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
      StatusTableException e =
          assertThrows(StatusTableException.class, () -> MasterTable.create(key, spec(2)));
      assertEquals(StatusTableException.Reason.STALE_ATTACHED, e.reason());
      assertTrue(e.getMessage().contains("1 process(es) are still attached"), e.getMessage());
    }
  }

  /**
   * The race of a takeover: a stale table is checked, then (while its master's children still
   * detach) someone removes it and puts another segment at the key. The master must remove only the
   * segment it checked, by its id, never whatever now has the key: the newcomer stays, and the
   * start is refused because the newcomer is not a prefork table.
   */
  @Test
  void aTakeoverRemovesTheSegmentItCheckedNotTheOneNowAtTheKey() throws Exception {
    int key = keys.newKey();
    int deadPid = FuzzedTables.deadPid();
    ShmSegment stale = ShmSegment.create(key, segmentSize(2));
    java.util.concurrent.ExecutorService master =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      BytesStore<?, ?> b = BytesStore.wrap(stale.address(), stale.size());
      writeHeader(b, 2, deadPid, System.currentTimeMillis() - 60_000);
      b.writeVolatileInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
      // Our attachment stands for a child of the dead master that has not exited yet.
      java.util.concurrent.Future<?> start = master.submit(() -> MasterTable.create(key, spec(2)));
      long deadline = System.currentTimeMillis() + 10_000;
      while (stale.stat().attachCount() < 2) {
        assertTrue(System.currentTimeMillis() < deadline, "the master never attached its probe");
        assertFalse(start.isDone(), "the master did not wait for the attached process");
        Thread.sleep(5);
      }
      // The master has checked the table and holds it while it waits: now swap the key.
      stale.remove();
      stale.detach();
      int newcomer;
      try (ShmSegment other = ShmSegment.create(key, 4096)) {
        newcomer = other.id();
        BytesStore.wrap(other.address(), other.size()).writeLong(0, 0x0123_4567_89ab_cdefL);
      }
      java.util.concurrent.ExecutionException e =
          assertThrows(
              java.util.concurrent.ExecutionException.class, () -> start.get(10, TimeUnit.SECONDS));
      StatusTableException refused = assertInstanceOf(StatusTableException.class, e.getCause());
      assertEquals(StatusTableException.Reason.FOREIGN, refused.reason(), refused.getMessage());
      assertEquals(newcomer, ShmSegment.stat(key).orElseThrow().id(), "the newcomer stays");
    } finally {
      master.shutdownNow();
      stale.detach();
    }
  }

  /** What a master writes before the layout version: one worker per child, 1..slots children. */
  static void writeHeader(BytesStore<?, ?> b, int slots, int masterPid, long heartbeatMillis) {
    b.writeLong(MAGIC_OFFSET, MAGIC);
    b.writeInt(SLOT_COUNT_OFFSET, slots);
    b.writeInt(SLOT_SIZE_OFFSET, SLOT_SIZE);
    b.writeInt(WORKERS_PER_CHILD_OFFSET, 1);
    b.writeInt(MIN_CHILDREN_OFFSET, 1);
    b.writeInt(MAX_CHILDREN_OFFSET, slots);
    b.writeInt(MASTER_PID_OFFSET, masterPid);
    b.writeLong(MASTER_START_OFFSET, heartbeatMillis);
    b.writeLong(HEARTBEAT_OFFSET, heartbeatMillis);
  }
}
