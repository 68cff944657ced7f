package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated attachment of a status table: the segment, a bounds-checked view of it, and the
 * reading every user of the table shares. Subclasses add what their user may write.
 *
 * <p>Readers never load chronicle-bytes: every read goes through {@link SegmentView}, which checks
 * it lies inside the segment (a {@code ctl}, a child and a tool pay nothing for chronicle at
 * start-up). Only the master, which writes the header, wraps the segment in a {@code BytesStore}.
 */
abstract class AttachedTable implements AutoCloseable {
  final ShmSegment segment;
  final SegmentView view;
  final int slotCount;

  AttachedTable(ShmSegment segment, int slotCount) {
    this.segment = segment;
    this.view = new SegmentView(segment);
    this.slotCount = slotCount;
  }

  /**
   * Checks an attached segment before anything in it is trusted (see {@link TableCheck#validate}):
   * owner and mode, a header's size, then the layout version (read first, with acquire), magic, and
   * every creation-time field of the header against the segment's real size and each other. Returns
   * the slot count.
   */
  static int validate(ShmSegment segment) {
    return TableCheck.validate(segment.key(), segment.stat(), new SegmentView(segment));
  }

  /** A segment attached and validated, and its table's slot count. */
  record Attached(ShmSegment segment, int slotCount) {}

  /**
   * Attaches and validates, detaching again if validation fails. (Not a factory taking a
   * constructor reference: each lambda's first use costs a short-lived tool milliseconds.)
   */
  static Attached attachValidated(int key, boolean readOnly) {
    ShmSegment segment = ShmSegment.attach(key, readOnly);
    try {
      return new Attached(segment, validate(segment));
    } catch (RuntimeException e) {
      segment.detach();
      throw e;
    }
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
    return view.getInt(MASTER_PID_OFFSET);
  }

  /**
   * The master's last heartbeat (epoch milliseconds).
   *
   * @return the heartbeat's time; the table's creation time before the first heartbeat
   */
  public long heartbeatMillis() {
    return view.getLongAcquire(HEARTBEAT_OFFSET);
  }

  /**
   * Connections waiting in the listening socket's accept queue, as the master last read it from the
   * kernel (every tick, 50 ms).
   *
   * @return the queue's length, 0 before the master published one
   */
  public int listenQueue() {
    return view.getIntAcquire(LISTEN_QUEUE_OFFSET);
  }

  /**
   * The current generation.
   *
   * @return the generation the master published last, 0 before it published one
   */
  public long generation() {
    return view.getLongAcquire(GENERATION_OFFSET);
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
    long command = view.getLongAcquire(COMMAND_OFFSET);
    long ack = view.getLongAcquire(COMMAND_ACK_OFFSET);
    return new TableSnapshot(
        segment.key(),
        now,
        nonNegative(view.getInt(MASTER_PID_OFFSET)),
        MasterState.ofCode(view.getIntAcquire(MASTER_STATE_OFFSET)),
        nonNegative(view.getLong(MASTER_START_OFFSET)),
        nonNegative(view.getLongAcquire(HEARTBEAT_OFFSET)),
        nonNegative(view.getLongAcquire(GENERATION_OFFSET)),
        nonNegative(view.getInt(MIN_CHILDREN_OFFSET)),
        nonNegative(view.getInt(MAX_CHILDREN_OFFSET)),
        Math.max(1, view.getInt(WORKERS_PER_CHILD_OFFSET)),
        nonNegative(view.getLongAcquire(SPAWNS_OFFSET)),
        nonNegative(view.getLongAcquire(CRASHES_OFFSET)),
        nonNegative(view.getLongAcquire(RESTARTS_OFFSET)),
        nonNegative(view.getIntAcquire(LISTEN_QUEUE_OFFSET)),
        nonNegative(view.getIntAcquire(LISTEN_BACKLOG_OFFSET)),
        view.getInt(LISTEN_PORT_OFFSET) & 0xFFFF,
        listenAddress(),
        nonNegative(view.getLongAcquire(SPAWN_BACKOFF_UNTIL_OFFSET)),
        nonNegative(view.getLongAcquire(RETIRED_CALLS_OFFSET)),
        nonNegative(view.getLongAcquire(CALL_RATE_OFFSET)) / 1000.0,
        nonNegative(view.getIntAcquire(RATE_INTERVAL_OFFSET)),
        pending(commandSequence(command), ack),
        poolDecision(),
        nonNegative(view.getIntAcquire(MASTER_RSS_KIB_OFFSET)) * 1024L,
        nonNegative(view.getIntAcquire(CHILDREN_RSS_KIB_OFFSET)) * 1024L,
        List.copyOf(slots));
  }

  private PoolDecision poolDecision() {
    PoolDecision.Kind kind = PoolDecision.Kind.ofCode(view.getIntAcquire(POOL_DECISION_OFFSET));
    if (kind == PoolDecision.Kind.NONE) {
      return PoolDecision.NONE;
    }
    return new PoolDecision(
        kind,
        nonNegative(view.getIntAcquire(POOL_DECISION_CHILDREN_OFFSET)),
        nonNegative(view.getIntAcquire(POOL_DECISION_IDLE_OFFSET)),
        nonNegative(view.getIntAcquire(POOL_DECISION_QUEUE_OFFSET)),
        nonNegative(view.getLongAcquire(POOL_DECISION_SURPLUS_OFFSET)),
        nonNegative(view.getLongAcquire(POOL_DECISION_AT_OFFSET)));
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
    SlotState state = SlotState.ofCode(view.getIntAcquire(base + STATE_OFFSET));
    return new SlotSnapshot(
        slot,
        state,
        nonNegative(view.getIntAcquire(base + PID_OFFSET)),
        nonNegative(view.getInt(base + WORKER_INDEX_OFFSET)),
        nonNegative(view.getLong(base + SLOT_GENERATION_OFFSET)),
        nonNegative(view.getLongAcquire(base + CALLS_OFFSET)),
        nonNegative(view.getLongAcquire(base + STATE_SINCE_OFFSET)),
        nonNegative(view.getLong(base + STARTED_AT_OFFSET)),
        ExitRequest.ofCode(view.getIntAcquire(base + EXIT_REQUEST_OFFSET)));
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
    return SlotState.ofCode(view.getIntAcquire(slotOffset(slot) + STATE_OFFSET));
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
    int length = view.getInt(LISTEN_ADDRESS_LENGTH_OFFSET);
    if (length != 4 && length != 16) {
      return "?";
    }
    byte[] raw = new byte[length];
    for (int i = 0; i < length; i++) {
      raw[i] = view.getByte(LISTEN_ADDRESS_OFFSET + i);
    }
    if (length == 4) {
      // What Inet4Address.getHostAddress() prints, without starting InetAddress (its caches and
      // name service) in a short-lived tool.
      StringBuilder b = new StringBuilder(15);
      for (int i = 0; i < 4; i++) {
        b.append(i == 0 ? "" : ".").append(raw[i] & 0xFF);
      }
      return b.toString();
    }
    try {
      return InetAddress.getByAddress(raw).getHostAddress();
    } catch (UnknownHostException e) {
      return "?";
    }
  }

  /** Commands posted but not taken: the sequences are unsigned 32-bit, the ack any 64-bit value. */
  private static long pending(long sequence, long ack) {
    return ack >= 0 && ack < sequence ? sequence - ack : 0;
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
