package io.prefork.shm;

/**
 * The status table a prefork master shares with its children and with control tools: one System V
 * segment with a fixed header and one slot per worker. Zeroed memory is a valid empty table; the
 * header's layout version is written last, so 0 there means "not ready yet".
 *
 * <p>Three kinds of users attach it, each through its own type:
 *
 * <ul>
 *   <li>{@link MasterTable}: the master creates, owns, writes the header and removes the segment;
 *   <li>{@link ChildTable} / {@link WorkerSlot}: a child writes only its own slots;
 *   <li>{@link TableReader}: controllers and tools read snapshots (attached read-only), and {@link
 *       ControlPort} posts commands into the one word they may write.
 * </ul>
 *
 * <p>Layout (all little-endian, offsets in bytes; W = who writes the field):
 *
 * <pre>
 * Header, HEADER_SIZE = 256
 *   off size field              W
 *     0  8   magic              master, at creation ("PREFORK1")
 *     8  4   layoutVersion      master, at creation, LAST (release): 0 = not ready
 *    12  4   slotCount          master, at creation
 *    16  4   slotSize           master, at creation
 *    20  4   workersPerChild    master, at creation
 *    24  4   minChildren        master, at creation
 *    28  4   maxChildren        master, at creation
 *    32  4   masterPid          master, at creation
 *    36  4   masterState        master (ordered)
 *    40  8   masterStartMillis  master, at creation
 *    48  8   heartbeatMillis    master, every supervision tick (ordered)
 *    56  8   generation         master, at each restart (ordered)
 *  ---- cache line: the only header word other processes write
 *    64  8   command            controllers, compare-and-swap: sequence &lt;&lt; 32 | command code
 *    72  8   commandAck         master: the last sequence it took (ordered)
 *    80 48   (reserved)
 *  ---- cache line: master's counters
 *   128  8   spawns             master (ordered)
 *   136  8   crashes            master: children that died without being asked to (ordered)
 *   144  8   restarts           master: restarts completed (ordered)
 *   152  4   listenQueue        master: connections waiting in the accept queue (ordered)
 *   156  4   listenBacklog      master: the accept queue's limit (ordered)
 *   160  4   listenPort         master, at creation
 *   164  4   listenAddressLength master, at creation: 4 (IPv4) or 16 (IPv6)
 *   168 16   listenAddress      master, at creation
 *   184  8   spawnBackoffUntil  master: no respawn before this time (crash loop), 0 = none
 *   192  8   retiredCalls       master: calls of children that have exited (ordered)
 *   200  8   callRateMilli      master: calls per second over the last interval, times 1000
 *   208  4   rateIntervalMillis master: the interval of callRateMilli
 *   212  4   poolDecision       master: the pool's last change, 0 none, 1 grew, 2 retired
 *   216  4   poolDecisionChildren master: children spawned or retired then
 *   220  4   poolDecisionIdle   master: idle workers then
 *   224  4   poolDecisionQueue  master: the accept queue then
 *   228  8   poolDecisionSurplusMillis master: for a retirement, how long the surplus lasted
 *   236  8   poolDecisionAtMillis master: when (written before poolDecision)
 *   244  4   masterRssKib       master: its own resident memory, KiB, once per second (0 = unknown)
 *   248  4   childrenRssKib     master: its children's resident memory summed, KiB, likewise
 *   252  4   (reserved)
 *
 * Slot i at HEADER_SIZE + i * SLOT_SIZE, SLOT_SIZE = 128 (two cache lines: no two workers, and no
 * worker and the adjacent-line prefetcher, ever share a line)
 *   off size field              W
 *     0  4   state              worker: IDLE, BUSY, PARKED, EXITING (ordered);
 *                               master: STARTING before the spawn, UNUSED after the reap
 *     4  4   pid                master, after the spawn
 *     8  4   workerIndex        master, at reservation: the worker thread's index in its child
 *    12  4   exitRequest        master, compare-and-swap from NONE only (first reason wins)
 *    16  8   generation         master, at reservation
 *    24  8   calls              worker (ordered; its only writer); master zeroes it at reservation
 *    32  8   stateSinceMillis   whoever writes state, before writing it
 *    40  8   startedAtMillis    master, at reservation
 *    48 80   (padding)
 * </pre>
 *
 * <p>Memory order: a field with one writer is written with an ordered (release) store and read with
 * a volatile (acquire) load; a slot's state is stored after its other fields, so a reader that sees
 * a state also sees the count and time that go with it. Compare-and-swap is used only where two
 * writers can race: the command word (any number of controllers) and a slot's exit request (any
 * master thread). The worker's hot transitions are plain ordered stores and allocate nothing.
 */
public final class SharedStatusTable {
  /** "PREFORK1" read as a little-endian long. */
  public static final long MAGIC = 0x314B524F46455250L;

  /** The layout this library reads and writes; bumped on any change to the offsets below. */
  public static final int LAYOUT_VERSION = 1;

  static final int SIZE_OF_INT = 4;
  static final int SIZE_OF_LONG = 8;
  static final int CACHE_LINE = 64;

  // Header
  static final int MAGIC_OFFSET = 0;
  static final int LAYOUT_VERSION_OFFSET = MAGIC_OFFSET + SIZE_OF_LONG;
  static final int SLOT_COUNT_OFFSET = LAYOUT_VERSION_OFFSET + SIZE_OF_INT;
  static final int SLOT_SIZE_OFFSET = SLOT_COUNT_OFFSET + SIZE_OF_INT;
  static final int WORKERS_PER_CHILD_OFFSET = SLOT_SIZE_OFFSET + SIZE_OF_INT;
  static final int MIN_CHILDREN_OFFSET = WORKERS_PER_CHILD_OFFSET + SIZE_OF_INT;
  static final int MAX_CHILDREN_OFFSET = MIN_CHILDREN_OFFSET + SIZE_OF_INT;
  static final int MASTER_PID_OFFSET = MAX_CHILDREN_OFFSET + SIZE_OF_INT;
  static final int MASTER_STATE_OFFSET = MASTER_PID_OFFSET + SIZE_OF_INT;
  static final int MASTER_START_OFFSET = MASTER_STATE_OFFSET + SIZE_OF_INT;
  static final int HEARTBEAT_OFFSET = MASTER_START_OFFSET + SIZE_OF_LONG;
  static final int GENERATION_OFFSET = HEARTBEAT_OFFSET + SIZE_OF_LONG;

  static final int COMMAND_OFFSET = CACHE_LINE;
  static final int COMMAND_ACK_OFFSET = COMMAND_OFFSET + SIZE_OF_LONG;

  static final int SPAWNS_OFFSET = 2 * CACHE_LINE;
  static final int CRASHES_OFFSET = SPAWNS_OFFSET + SIZE_OF_LONG;
  static final int RESTARTS_OFFSET = CRASHES_OFFSET + SIZE_OF_LONG;
  static final int LISTEN_QUEUE_OFFSET = RESTARTS_OFFSET + SIZE_OF_LONG;
  static final int LISTEN_BACKLOG_OFFSET = LISTEN_QUEUE_OFFSET + SIZE_OF_INT;
  static final int LISTEN_PORT_OFFSET = LISTEN_BACKLOG_OFFSET + SIZE_OF_INT;
  static final int LISTEN_ADDRESS_LENGTH_OFFSET = LISTEN_PORT_OFFSET + SIZE_OF_INT;
  static final int LISTEN_ADDRESS_OFFSET = LISTEN_ADDRESS_LENGTH_OFFSET + SIZE_OF_INT;
  static final int LISTEN_ADDRESS_CAPACITY = 16;
  static final int SPAWN_BACKOFF_UNTIL_OFFSET = LISTEN_ADDRESS_OFFSET + LISTEN_ADDRESS_CAPACITY;
  static final int RETIRED_CALLS_OFFSET = SPAWN_BACKOFF_UNTIL_OFFSET + SIZE_OF_LONG;
  static final int CALL_RATE_OFFSET = RETIRED_CALLS_OFFSET + SIZE_OF_LONG;
  static final int RATE_INTERVAL_OFFSET = CALL_RATE_OFFSET + SIZE_OF_LONG;
  static final int POOL_DECISION_OFFSET = RATE_INTERVAL_OFFSET + SIZE_OF_INT;
  static final int POOL_DECISION_CHILDREN_OFFSET = POOL_DECISION_OFFSET + SIZE_OF_INT;
  static final int POOL_DECISION_IDLE_OFFSET = POOL_DECISION_CHILDREN_OFFSET + SIZE_OF_INT;
  static final int POOL_DECISION_QUEUE_OFFSET = POOL_DECISION_IDLE_OFFSET + SIZE_OF_INT;
  static final int POOL_DECISION_SURPLUS_OFFSET = POOL_DECISION_QUEUE_OFFSET + SIZE_OF_INT;
  static final int POOL_DECISION_AT_OFFSET = POOL_DECISION_SURPLUS_OFFSET + SIZE_OF_LONG;
  // Taken from the reserved bytes, zero in a new segment: an older master's table reads "unknown".
  static final int MASTER_RSS_KIB_OFFSET = POOL_DECISION_AT_OFFSET + SIZE_OF_LONG;
  static final int CHILDREN_RSS_KIB_OFFSET = MASTER_RSS_KIB_OFFSET + SIZE_OF_INT;

  /** Bytes before the first slot. */
  public static final int HEADER_SIZE = 4 * CACHE_LINE;

  // Slot, relative to its start
  static final int STATE_OFFSET = 0;
  static final int PID_OFFSET = STATE_OFFSET + SIZE_OF_INT;
  static final int WORKER_INDEX_OFFSET = PID_OFFSET + SIZE_OF_INT;
  static final int EXIT_REQUEST_OFFSET = WORKER_INDEX_OFFSET + SIZE_OF_INT;
  static final int SLOT_GENERATION_OFFSET = EXIT_REQUEST_OFFSET + SIZE_OF_INT;
  static final int CALLS_OFFSET = SLOT_GENERATION_OFFSET + SIZE_OF_LONG;
  static final int STATE_SINCE_OFFSET = CALLS_OFFSET + SIZE_OF_LONG;
  static final int STARTED_AT_OFFSET = STATE_SINCE_OFFSET + SIZE_OF_LONG;

  /** Bytes per slot. */
  public static final int SLOT_SIZE = 2 * CACHE_LINE;

  /** The most slots a table may have (a sanity bound for validation, not a tuning knob). */
  public static final int MAX_SLOTS = 65_536;

  private SharedStatusTable() {}

  /**
   * The segment size a table with this many slots needs.
   *
   * @param slotCount the number of slots
   * @return {@link #HEADER_SIZE} plus {@link #SLOT_SIZE} per slot, in bytes
   */
  public static long segmentSize(int slotCount) {
    return HEADER_SIZE + (long) slotCount * SLOT_SIZE;
  }

  static long slotOffset(int slot) {
    return HEADER_SIZE + (long) slot * SLOT_SIZE;
  }

  static long encodeCommand(long sequence, Command command) {
    return (sequence << 32) | (command.code() & 0xFFFF_FFFFL);
  }

  static long commandSequence(long word) {
    return word >>> 32;
  }

  static int commandCode(long word) {
    return (int) word;
  }
}
