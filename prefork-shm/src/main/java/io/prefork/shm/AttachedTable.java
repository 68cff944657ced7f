package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import net.openhft.chronicle.bytes.BytesStore;

/**
 * A validated attachment of a status table: the segment, chronicle-bytes on its address, and the
 * reading every user of the table shares. Subclasses add what their user may write.
 */
abstract class AttachedTable implements AutoCloseable {
  final ShmSegment segment;
  final int slotCount;

  /**
   * chronicle-bytes on the segment, made on first use: a child's path (attach, validate, its worker
   * slots) never needs it, and loading chronicle would cost each child start-up time and memory
   * (see {@link RawMemory}).
   */
  private volatile BytesStore<?, ?> store;

  AttachedTable(ShmSegment segment, int slotCount) {
    this.segment = segment;
    this.slotCount = slotCount;
  }

  /** chronicle-bytes on the whole segment, made on first use. */
  final BytesStore<?, ?> store() {
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
   * Checks an attached segment before anything in it is trusted: owner and mode, then the layout
   * version (read first, with acquire), magic, slot size and count against the real size. Returns
   * the slot count.
   */
  static int validate(ShmSegment segment) {
    int key = segment.key();
    ShmStat stat = segment.stat();
    checkOwnership(key, stat);
    if (stat.size() < HEADER_SIZE) {
      throw new StatusTableException(
          StatusTableException.Reason.FOREIGN,
          key,
          "the segment has "
              + stat.size()
              + " bytes, fewer than a prefork table's header ("
              + HEADER_SIZE
              + "): it is not a prefork status table; check the shmKey");
    }
    // Raw reads, not chronicle: this runs on every child's start path.
    long base = segment.address();
    int version = RawMemory.readVolatileInt(base + LAYOUT_VERSION_OFFSET);
    long magic = RawMemory.readLong(base + MAGIC_OFFSET);
    if (version == 0 && (magic == 0 || magic == MAGIC)) {
      if (!MasterTable.processAlive(stat.creatorPid())) {
        // Never finished and its creator gone: nothing will ever make it ready.
        throw new StatusTableException(
            StatusTableException.Reason.FOREIGN,
            key,
            "the segment holds no finished prefork table and its creator (pid "
                + stat.creatorPid()
                + ") is gone: it is a leftover, or another program's; if nothing uses it, remove"
                + " it (ipcrm -M "
                + ShmKeys.toHex(key)
                + ") or choose another shmKey");
      }
      throw new StatusTableException(
          StatusTableException.Reason.NOT_READY,
          key,
          "the table is not ready yet (its master, pid "
              + stat.creatorPid()
              + ", is still creating it); retry in a moment");
    }
    if (magic != MAGIC) {
      throw new StatusTableException(
          StatusTableException.Reason.FOREIGN,
          key,
          String.format(
              "magic is 0x%016x, not prefork's 0x%016x: the segment belongs to another program;"
                  + " choose another shmKey",
              magic, MAGIC));
    }
    if (version != LAYOUT_VERSION) {
      throw new StatusTableException(
          StatusTableException.Reason.VERSION_MISMATCH,
          key,
          "layout version is "
              + version
              + " but this prefork reads version "
              + LAYOUT_VERSION
              + ": use the same prefork version for the server and its tools");
    }
    int slotSize = RawMemory.readInt(base + SLOT_SIZE_OFFSET);
    int slots = RawMemory.readInt(base + SLOT_COUNT_OFFSET);
    if (slotSize != SLOT_SIZE) {
      throw new StatusTableException(
          StatusTableException.Reason.SIZE_MISMATCH,
          key,
          "slot size is "
              + slotSize
              + " bytes, the layout says "
              + SLOT_SIZE
              + ": a corrupt table");
    }
    if (slots < 1 || slots > MAX_SLOTS || segmentSize(slots) > stat.size()) {
      throw new StatusTableException(
          StatusTableException.Reason.SIZE_MISMATCH,
          key,
          "the header claims "
              + slots
              + " slots ("
              + segmentSize(slots)
              + " bytes) but the segment has "
              + stat.size()
              + " bytes: a corrupt table");
    }
    return slots;
  }

  static void checkOwnership(int key, ShmStat stat) {
    int uid = Native.libc().geteuid();
    if (stat.ownerUid() != uid) {
      throw new StatusTableException(
          StatusTableException.Reason.NOT_OURS,
          key,
          "the segment belongs to uid "
              + stat.ownerUid()
              + ", not to this process's uid "
              + uid
              + ": permission denied; run as the server's user, or choose another shmKey");
    }
    if (stat.mode() != 0600) {
      throw new StatusTableException(
          StatusTableException.Reason.NOT_OURS,
          key,
          "the segment's mode is "
              + stat.modeOctal()
              + ", not 0600: prefork did not create it; choose another shmKey");
    }
  }

  /** Attaches and validates, detaching again if validation fails. */
  static <T> T attachValidated(int key, boolean readOnly, Factory<T> factory) {
    ShmSegment segment = ShmSegment.attach(key, readOnly);
    try {
      return factory.create(segment, validate(segment));
    } catch (RuntimeException e) {
      segment.detach();
      throw e;
    }
  }

  interface Factory<T> {
    T create(ShmSegment segment, int slotCount);
  }

  /**
   * The segment's key.
   *
   * @return the System V key the table was attached or created at
   */
  public int key() {
    return segment.key();
  }

  /**
   * The number of slots.
   *
   * @return the validated count, 1 to {@link SharedStatusTable#MAX_SLOTS}
   */
  public int slotCount() {
    return slotCount;
  }

  /**
   * The master's pid as recorded in the header.
   *
   * @return the pid the master wrote at creation, not validated
   */
  public int masterPid() {
    checkAttached();
    return store().readInt(MASTER_PID_OFFSET);
  }

  /**
   * The master's last heartbeat (epoch milliseconds).
   *
   * @return the heartbeat's time; the table's creation time before the first heartbeat
   */
  public long heartbeatMillis() {
    checkAttached();
    return store().readVolatileLong(HEARTBEAT_OFFSET);
  }

  /**
   * The current generation.
   *
   * @return the generation the master published last, 0 before it published one
   */
  public long generation() {
    checkAttached();
    return store().readVolatileLong(GENERATION_OFFSET);
  }

  /**
   * What the kernel says about the segment now.
   *
   * @return a fresh {@code shmctl(IPC_STAT)} result
   * @throws ShmException if {@code shmctl} fails, e.g. once the segment is gone
   */
  public ShmStat stat() {
    return segment.stat();
  }

  /**
   * Reads the whole table, validating every value.
   *
   * @return the header and all {@link #slotCount()} slots as read now
   */
  public TableSnapshot snapshot() {
    checkAttached();
    long now = System.currentTimeMillis();
    List<SlotSnapshot> slots = new ArrayList<>(slotCount);
    for (int i = 0; i < slotCount; i++) {
      slots.add(readSlot(i));
    }
    long command = store().readVolatileLong(COMMAND_OFFSET);
    long ack = store().readVolatileLong(COMMAND_ACK_OFFSET);
    return new TableSnapshot(
        segment.key(),
        now,
        nonNegative(store().readInt(MASTER_PID_OFFSET)),
        MasterState.ofCode(store().readVolatileInt(MASTER_STATE_OFFSET)),
        store().readLong(MASTER_START_OFFSET),
        store().readVolatileLong(HEARTBEAT_OFFSET),
        nonNegative(store().readVolatileLong(GENERATION_OFFSET)),
        nonNegative(store().readInt(MIN_CHILDREN_OFFSET)),
        nonNegative(store().readInt(MAX_CHILDREN_OFFSET)),
        Math.max(1, store().readInt(WORKERS_PER_CHILD_OFFSET)),
        nonNegative(store().readVolatileLong(SPAWNS_OFFSET)),
        nonNegative(store().readVolatileLong(CRASHES_OFFSET)),
        nonNegative(store().readVolatileLong(RESTARTS_OFFSET)),
        nonNegative(store().readVolatileInt(LISTEN_QUEUE_OFFSET)),
        nonNegative(store().readVolatileInt(LISTEN_BACKLOG_OFFSET)),
        store().readInt(LISTEN_PORT_OFFSET) & 0xFFFF,
        listenAddress(),
        nonNegative(store().readVolatileLong(SPAWN_BACKOFF_UNTIL_OFFSET)),
        nonNegative(store().readVolatileLong(RETIRED_CALLS_OFFSET)),
        nonNegative(store().readVolatileLong(CALL_RATE_OFFSET)) / 1000.0,
        nonNegative(store().readVolatileInt(RATE_INTERVAL_OFFSET)),
        Math.max(0, commandSequence(command) - ack),
        List.copyOf(slots));
  }

  /**
   * Reads one slot, validating every value.
   *
   * @param slot the slot's index, 0 to {@link #slotCount()} - 1
   * @return the slot as read now
   * @throws StatusTableException with {@code NO_SUCH_SLOT} if {@code slot} is outside the table
   */
  public SlotSnapshot readSlot(int slot) {
    checkAttached();
    checkSlot(slot);
    long base = slotOffset(slot);
    // State first, with acquire: the fields its writer stored before it are visible with it.
    SlotState state = SlotState.ofCode(store().readVolatileInt(base + STATE_OFFSET));
    return new SlotSnapshot(
        slot,
        state,
        nonNegative(store().readVolatileInt(base + PID_OFFSET)),
        nonNegative(store().readInt(base + WORKER_INDEX_OFFSET)),
        nonNegative(store().readLong(base + SLOT_GENERATION_OFFSET)),
        nonNegative(store().readVolatileLong(base + CALLS_OFFSET)),
        store().readVolatileLong(base + STATE_SINCE_OFFSET),
        store().readLong(base + STARTED_AT_OFFSET),
        ExitRequest.ofCode(store().readVolatileInt(base + EXIT_REQUEST_OFFSET)));
  }

  /**
   * The state of one slot.
   *
   * @param slot the slot's index, 0 to {@link #slotCount()} - 1
   * @return the state, {@link SlotState#UNKNOWN} if the stored value is out of range
   * @throws StatusTableException with {@code NO_SUCH_SLOT} if {@code slot} is outside the table
   */
  public SlotState state(int slot) {
    checkAttached();
    checkSlot(slot);
    return SlotState.ofCode(store().readVolatileInt(slotOffset(slot) + STATE_OFFSET));
  }

  /** Touching the memory after detach would crash the JVM: fail with an exception instead. */
  final void checkAttached() {
    if (!segment.isAttached()) {
      throw new IllegalStateException(
          "the table at shm key " + ShmKeys.toHex(segment.key()) + " was closed (detached)");
    }
  }

  final void checkSlot(int slot) {
    if (slot < 0 || slot >= slotCount) {
      throw new StatusTableException(
          StatusTableException.Reason.NO_SUCH_SLOT,
          segment.key(),
          "slot "
              + slot
              + " is outside the table's "
              + slotCount
              + " slots (0.."
              + (slotCount - 1)
              + ")");
    }
  }

  private String listenAddress() {
    int length = store().readInt(LISTEN_ADDRESS_LENGTH_OFFSET);
    if (length != 4 && length != 16) {
      return "?";
    }
    byte[] raw = new byte[length];
    for (int i = 0; i < length; i++) {
      raw[i] = store().readByte(LISTEN_ADDRESS_OFFSET + i);
    }
    try {
      return InetAddress.getByAddress(raw).getHostAddress();
    } catch (UnknownHostException e) {
      return "?";
    }
  }

  private static int nonNegative(int v) {
    return Math.max(0, v);
  }

  private static long nonNegative(long v) {
    return Math.max(0, v);
  }

  /** Detaches the segment from this process; later calls do nothing. */
  @Override
  public void close() {
    segment.detach();
  }
}
