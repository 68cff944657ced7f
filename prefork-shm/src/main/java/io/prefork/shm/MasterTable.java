package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

import net.openhft.chronicle.bytes.BytesStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's side of the status table: it creates the segment, writes the header, reserves and
 * releases slots, asks workers to exit, takes commands, and removes the segment when it stops.
 *
 * <p>The header and the slots' master-owned fields have one writer, the master; its methods are
 * meant to be called from one supervising thread, except {@link #requestExit}, which any thread may
 * call.
 */
public final class MasterTable extends AttachedTable {
  private static final Logger log = LoggerFactory.getLogger(MasterTable.class);

  /** A heartbeat older than this, with the master's pid gone, means the owner is dead. */
  public static final long STALE_AFTER_MILLIS = 3_000;

  /** How long to wait for the children of a dead master to detach before giving up. */
  static final long DETACH_GRACE_MILLIS = 3_000;

  private long spawns;
  private long crashes;
  private long restarts;
  private long lastCommandSequence;

  /** chronicle-bytes on the whole segment, made on first use: the master writes through it. */
  private volatile BytesStore<?, ?> store;

  private MasterTable(ShmSegment segment, int slotCount) {
    super(segment, slotCount);
  }

  /** chronicle-bytes on the whole segment (bounds-checked), made on first use. */
  BytesStore<?, ?> store() {
    BytesStore<?, ?> s = store;
    if (s == null) {
      synchronized (this) {
        s = store;
        if (s == null) {
          s = BytesStore.wrap(segment.address(), segment.size());
          store = s;
        }
      }
    }
    return s;
  }

  /**
   * Creates the table at {@code key}. A segment already there is inspected first: a live owner
   * (fresh heartbeat from a running master), a foreign segment, a table of another layout version
   * or one whose header fails any check a reader makes makes this fail; a valid table whose master
   * is gone and which nobody else has attached any more is logged, removed (by the shmid that was
   * checked) and replaced.
   *
   * @param key the System V key to create the table at
   * @param spec the pool's bounds and listening socket, written into the header
   * @return the new table, master state {@link MasterState#STARTING}; {@link #close()} removes it
   * @throws StatusTableException when the key is taken (see {@link StatusTableException#reason()})
   * @throws ShmException when a system call fails
   */
  public static MasterTable create(int key, TableSpec spec) {
    for (int attempt = 0; ; attempt++) {
      ShmSegment segment;
      try {
        segment = ShmSegment.create(key, segmentSize(spec.slotCount()));
      } catch (ShmException e) {
        if (e.errno() != Errnos.EEXIST || attempt >= 2) {
          throw e;
        }
        StaleTable.removeIfStale(key);
        continue;
      }
      MasterTable table = new MasterTable(segment, spec.slotCount());
      table.initialize(spec);
      return table;
    }
  }

  private void initialize(TableSpec spec) {
    long now = System.currentTimeMillis();
    store().writeLong(MAGIC_OFFSET, MAGIC);
    store().writeInt(SLOT_COUNT_OFFSET, spec.slotCount());
    store().writeInt(SLOT_SIZE_OFFSET, SLOT_SIZE);
    store().writeInt(WORKERS_PER_CHILD_OFFSET, spec.workersPerChild());
    store().writeInt(MIN_CHILDREN_OFFSET, spec.minChildren());
    store().writeInt(MAX_CHILDREN_OFFSET, spec.maxChildren());
    store().writeInt(MASTER_PID_OFFSET, (int) ProcessHandle.current().pid());
    store().writeInt(MASTER_STATE_OFFSET, MasterState.STARTING.code());
    store().writeLong(MASTER_START_OFFSET, now);
    store().writeLong(HEARTBEAT_OFFSET, now);
    store().writeInt(LISTEN_PORT_OFFSET, spec.listenPort());
    store().writeInt(LISTEN_BACKLOG_OFFSET, spec.listenBacklog());
    if (spec.listenAddress() != null) {
      byte[] raw = spec.listenAddress().getAddress();
      store().writeInt(LISTEN_ADDRESS_LENGTH_OFFSET, raw.length);
      for (int i = 0; i < raw.length; i++) {
        store().writeByte(LISTEN_ADDRESS_OFFSET + i, raw[i]);
      }
    }
    // Last, with release: a reader that sees the version sees everything above.
    store().writeVolatileInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
  }

  /**
   * Refreshes the heartbeat that tells others this master is alive.
   *
   * @param nowMillis the current time (epoch milliseconds)
   */
  public void heartbeat(long nowMillis) {
    store().writeOrderedLong(HEARTBEAT_OFFSET, nowMillis);
  }

  /**
   * Publishes what the master is doing.
   *
   * @param state the master's new state
   */
  public void masterState(MasterState state) {
    store().writeOrderedInt(MASTER_STATE_OFFSET, state.code());
  }

  /**
   * Publishes a new generation.
   *
   * @param generation the generation now current, as {@link #generation()} will return it
   */
  public void generation(long generation) {
    store().writeOrderedLong(GENERATION_OFFSET, generation);
  }

  /** Counts one spawned child. */
  public void countSpawn() {
    store().writeOrderedLong(SPAWNS_OFFSET, ++spawns);
  }

  /** Counts one child that died without being asked to. */
  public void countCrash() {
    store().writeOrderedLong(CRASHES_OFFSET, ++crashes);
  }

  /** Counts one completed restart. */
  public void countRestart() {
    store().writeOrderedLong(RESTARTS_OFFSET, ++restarts);
  }

  /**
   * Publishes the accept queue's length and limit as the kernel reports them.
   *
   * @param queued connections waiting in the accept queue
   * @param backlog the queue's limit; replaces the one from the {@link TableSpec}
   */
  public void listenQueue(int queued, int backlog) {
    store().writeOrderedInt(LISTEN_QUEUE_OFFSET, queued);
    store().writeOrderedInt(LISTEN_BACKLOG_OFFSET, backlog);
  }

  /**
   * Adds the calls of a child that exited to the total kept in the header.
   *
   * @param calls the child's calls; 0 or less adds nothing
   */
  public void retireCalls(long calls) {
    if (calls > 0) {
      store()
          .writeOrderedLong(RETIRED_CALLS_OFFSET, store().readLong(RETIRED_CALLS_OFFSET) + calls);
    }
  }

  /**
   * Publishes the call rate over the last interval.
   *
   * @param callsPerSecond the rate, stored rounded to thousandths
   * @param intervalMillis the interval's length in milliseconds, stored capped at {@link
   *     Integer#MAX_VALUE}
   */
  public void callRate(double callsPerSecond, long intervalMillis) {
    store().writeOrderedLong(CALL_RATE_OFFSET, Math.round(callsPerSecond * 1000));
    store()
        .writeOrderedInt(RATE_INTERVAL_OFFSET, (int) Math.min(Integer.MAX_VALUE, intervalMillis));
  }

  /**
   * Publishes the resident memory (RSS) of the master and of its children.
   *
   * @param masterKib the master's, in KiB (0 if unknown)
   * @param childrenKib the live children's summed, in KiB (0 if unknown)
   */
  public void residentMemory(long masterKib, long childrenKib) {
    store().writeOrderedInt(MASTER_RSS_KIB_OFFSET, (int) Math.min(Integer.MAX_VALUE, masterKib));
    store()
        .writeOrderedInt(CHILDREN_RSS_KIB_OFFSET, (int) Math.min(Integer.MAX_VALUE, childrenKib));
  }

  /**
   * Publishes the pool's last change of size: the fields first, the kind last (ordered), so a
   * reader that sees the kind sees the figures that go with it (a decision of the next tick may mix
   * in; it is a display field).
   *
   * @param decision what the pool did and why
   */
  public void poolDecision(PoolDecision decision) {
    store().writeOrderedInt(POOL_DECISION_CHILDREN_OFFSET, decision.children());
    store().writeOrderedInt(POOL_DECISION_IDLE_OFFSET, decision.idleWorkers());
    store().writeOrderedInt(POOL_DECISION_QUEUE_OFFSET, decision.queued());
    store().writeOrderedLong(POOL_DECISION_SURPLUS_OFFSET, decision.surplusMillis());
    store().writeOrderedLong(POOL_DECISION_AT_OFFSET, decision.atMillis());
    store().writeOrderedInt(POOL_DECISION_OFFSET, decision.kind().code());
  }

  /**
   * Publishes until when respawning is held back (crash-loop backoff); 0 for no backoff.
   *
   * @param epochMillis the end of the backoff (epoch milliseconds), or 0
   */
  public void spawnBackoffUntil(long epochMillis) {
    store().writeOrderedLong(SPAWN_BACKOFF_UNTIL_OFFSET, epochMillis);
  }

  /**
   * Takes the newest command posted since the last call, acknowledging it, or returns {@link
   * Command#NONE}. Out-of-range command codes are acknowledged and ignored.
   *
   * @return the command, never null; {@link Command#NONE} if none is new or its code is unknown
   */
  public Command takeCommand() {
    long word = store().readVolatileLong(COMMAND_OFFSET);
    long sequence = commandSequence(word);
    if (sequence == lastCommandSequence) {
      return Command.NONE;
    }
    lastCommandSequence = sequence;
    store().writeOrderedLong(COMMAND_ACK_OFFSET, sequence);
    Command command = Command.ofCode(commandCode(word));
    if (command == null) {
      log.warn(
          "shm key {}: ignoring unknown command code {} (sequence {})",
          ShmKeys.toHex(key()),
          commandCode(word),
          sequence);
      return Command.NONE;
    }
    return command;
  }

  /**
   * Prepares a free slot for a child about to be spawned: zeroes its counters, records the
   * generation and worker index, and sets it STARTING.
   *
   * @param slot the slot's index, 0 to {@link #slotCount()} - 1
   * @param workerIndex the index of the slot's worker thread within its child
   * @param generation the generation the child is spawned in
   * @param nowMillis the current time (epoch milliseconds), recorded as start and state time
   * @throws StatusTableException with {@code NO_SUCH_SLOT} if {@code slot} is outside the table
   */
  public void reserve(int slot, int workerIndex, long generation, long nowMillis) {
    checkSlot(slot);
    long base = slotOffset(slot);
    store().writeOrderedInt(base + PID_OFFSET, 0);
    store().writeInt(base + WORKER_INDEX_OFFSET, workerIndex);
    store().writeOrderedInt(base + EXIT_REQUEST_OFFSET, ExitRequest.NONE.code());
    store().writeLong(base + SLOT_GENERATION_OFFSET, generation);
    store().writeOrderedLong(base + CALLS_OFFSET, 0);
    store().writeLong(base + STARTED_AT_OFFSET, nowMillis);
    store().writeOrderedLong(base + STATE_SINCE_OFFSET, nowMillis);
    store().writeOrderedInt(base + STATE_OFFSET, SlotState.STARTING.code());
  }

  /**
   * Records the pid of the child spawned for this slot.
   *
   * @param slot the slot's index, 0 to {@link #slotCount()} - 1
   * @param pid the child's pid
   * @throws StatusTableException with {@code NO_SUCH_SLOT} if {@code slot} is outside the table
   */
  public void pid(int slot, int pid) {
    checkSlot(slot);
    store().writeOrderedInt(slotOffset(slot) + PID_OFFSET, pid);
  }

  /**
   * Asks the slot's worker to exit after the connection in hand. Only the first request sticks.
   *
   * @param slot the slot's index, 0 to {@link #slotCount()} - 1
   * @param reason why the worker should exit, not {@link ExitRequest#NONE}
   * @return true if this call set the request, false if one was already there
   * @throws StatusTableException with {@code NO_SUCH_SLOT} if {@code slot} is outside the table
   * @throws IllegalArgumentException if {@code reason} is {@link ExitRequest#NONE}
   */
  public boolean requestExit(int slot, ExitRequest reason) {
    checkSlot(slot);
    if (reason == ExitRequest.NONE) {
      throw new IllegalArgumentException("an exit request needs a reason, not NONE");
    }
    return store()
        .compareAndSwapInt(
            slotOffset(slot) + EXIT_REQUEST_OFFSET, ExitRequest.NONE.code(), reason.code());
  }

  /**
   * Frees the slot after its worker's child was reaped.
   *
   * @param slot the slot's index, 0 to {@link #slotCount()} - 1
   * @param nowMillis the current time (epoch milliseconds), recorded as state time
   * @throws StatusTableException with {@code NO_SUCH_SLOT} if {@code slot} is outside the table
   */
  public void release(int slot, long nowMillis) {
    checkSlot(slot);
    long base = slotOffset(slot);
    store().writeOrderedLong(base + STATE_SINCE_OFFSET, nowMillis);
    store().writeOrderedInt(base + STATE_OFFSET, SlotState.UNUSED.code());
    store().writeOrderedInt(base + PID_OFFSET, 0);
  }

  /**
   * Connections the slot's worker accepted so far.
   *
   * @param slot the slot's index, 0 to {@link #slotCount()} - 1
   * @return the count the worker published last, 0 after reservation
   * @throws StatusTableException with {@code NO_SUCH_SLOT} if {@code slot} is outside the table
   */
  public long calls(int slot) {
    checkSlot(slot);
    return store().readVolatileLong(slotOffset(slot) + CALLS_OFFSET);
  }

  /**
   * When the slot's state last changed (epoch milliseconds).
   *
   * @param slot the slot's index, 0 to {@link #slotCount()} - 1
   * @return the time the master or the worker published with the state
   * @throws StatusTableException with {@code NO_SUCH_SLOT} if {@code slot} is outside the table
   */
  public long stateSinceMillis(int slot) {
    checkSlot(slot);
    return store().readVolatileLong(slotOffset(slot) + STATE_SINCE_OFFSET);
  }

  /**
   * Removes the segment (it disappears under its key at once; attached children keep their mapping
   * until they exit) and detaches it. Later calls do nothing.
   */
  @Override
  public void close() {
    if (!segment.isAttached()) {
      return;
    }
    try {
      segment.remove();
    } finally {
      segment.detach();
    }
  }
}
