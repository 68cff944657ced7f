package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Test support: real segments that no reader may trust, from a seeded generator. Each {@link #next}
 * creates one at a key (mode 0600, this user's, as a master makes it) holding random bytes, zeros,
 * or the header a master writes with one value made a lie (sizes, slot counts, pool bounds, pids,
 * times, the listen address, the magic or the layout version), or a segment shorter or longer than
 * its header says. The caller attaches it every way it likes, checks that it is refused, and
 * removes it (ShmKeysExtension does after each test).
 *
 * <p>Every case is invalid: a reader must refuse it, and a starting master must refuse it and leave
 * it in place, whatever the liveness of the pid it names.
 */
public final class FuzzedTables {
  /** The seed of the tests' generators; {@code -Dprefork.fuzz.seed=N} replays another. */
  public static final long SEED = Long.getLong("prefork.fuzz.seed", 0x5EED_F00DL);

  /** One fuzzed segment as created. */
  public record Case(String description, int key, int shmid, byte[] image, String mustName) {
    /** The case and the seed to replay it, for failure messages. */
    public String describe(long seed, int iteration) {
      return "case "
          + iteration
          + " of seed "
          + seed
          + " (-Dprefork.fuzz.seed="
          + seed
          + "): "
          + description;
    }
  }

  private static volatile int deadPid;

  private final Random random;

  /**
   * A generator.
   *
   * @param seed the seed; the same seed makes the same cases
   */
  public FuzzedTables(long seed) {
    this.random = new Random(seed);
  }

  /** A pid that was a process of ours and has exited (so no process has it, barring reuse). */
  public static int deadPid() {
    int pid = deadPid;
    if (pid == 0) {
      try {
        Process p = new ProcessBuilder("true").start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("true did not exit");
        }
        pid = (int) p.pid();
        deadPid = pid;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return pid;
  }

  /**
   * A valid header as a master writes it (creation-time fields, then the layout version), for
   * {@code slots} slots of one worker each.
   */
  public static ByteBuffer validImage(int slots, int masterPid, long heartbeatMillis) {
    ByteBuffer b = ByteBuffer.allocate((int) segmentSize(slots)).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(MAGIC_OFFSET, MAGIC);
    b.putInt(SLOT_COUNT_OFFSET, slots);
    b.putInt(SLOT_SIZE_OFFSET, SLOT_SIZE);
    b.putInt(WORKERS_PER_CHILD_OFFSET, 1);
    b.putInt(MIN_CHILDREN_OFFSET, 1);
    b.putInt(MAX_CHILDREN_OFFSET, slots);
    b.putInt(MASTER_PID_OFFSET, masterPid);
    b.putInt(MASTER_STATE_OFFSET, MasterState.RUNNING.code());
    b.putLong(MASTER_START_OFFSET, heartbeatMillis - 1_000);
    b.putLong(HEARTBEAT_OFFSET, heartbeatMillis);
    b.putLong(GENERATION_OFFSET, 1);
    b.putInt(LISTEN_BACKLOG_OFFSET, 511);
    b.putInt(LISTEN_PORT_OFFSET, 6905);
    b.putInt(LISTEN_ADDRESS_LENGTH_OFFSET, 4);
    b.put(LISTEN_ADDRESS_OFFSET, (byte) 127);
    b.put(LISTEN_ADDRESS_OFFSET + 3, (byte) 1);
    b.putInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
    return b;
  }

  /** Creates a segment of {@code image}'s size at {@code key}, holding {@code image}. */
  public static int create(int key, byte[] image) {
    return create(key, image, image.length);
  }

  /** Creates a segment of {@code size} bytes at {@code key} and copies in what of image fits. */
  public static int create(int key, byte[] image, long size) {
    try (ShmSegment segment = ShmSegment.create(key, size)) {
      int n = (int) Math.min(size, image.length);
      MemoryIO.getInstance().putByteArray(segment.address(), image, 0, n);
      return segment.id();
    }
  }

  /** The segment's bytes now (attached read-only and detached again). */
  public static byte[] contents(int key) {
    try (ShmSegment segment = ShmSegment.attach(key, true)) {
      byte[] out = new byte[(int) segment.size()];
      MemoryIO.getInstance().getByteArray(segment.address(), out, 0, out.length);
      return out;
    }
  }

  /** The next case, created at {@code key}, which must be free. */
  public Case next(int key) {
    int kind = random.nextInt(11);
    return switch (kind) {
      case 0 -> randomBytes(key);
      case 1 -> zeros(key);
      case 2 -> truncated(key);
      case 3 -> longer(key);
      case 4 -> unfinished(key);
      default -> lie(key);
    };
  }

  private static final long[] SIZES = {1, 7, 8, 64, 255, 256, 257, 383, 384, 4096, 4097};

  private Case randomBytes(int key) {
    long size =
        random.nextBoolean() ? SIZES[random.nextInt(SIZES.length)] : 1 + random.nextInt(8192);
    byte[] image = new byte[(int) size];
    random.nextBytes(image);
    if (size >= HEADER_SIZE && random.nextBoolean()) {
      // Random, but our magic and layout version: only the other checks stand in the way.
      ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(MAGIC_OFFSET, MAGIC);
      b.putInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
      return new Case(
          size + " random bytes under prefork's magic and version",
          key,
          create(key, image),
          image,
          null);
    }
    return new Case(size + " random bytes", key, create(key, image), image, null);
  }

  private Case zeros(int key) {
    long size = SIZES[random.nextInt(SIZES.length)];
    byte[] image = new byte[(int) size];
    return new Case(size + " zero bytes", key, create(key, image), image, null);
  }

  /** A valid header whose segment is shorter than its slots need (or than a header). */
  private Case truncated(int key) {
    int slots = 1 + random.nextInt(8);
    ByteBuffer b = validImage(slots, pid(), heartbeat());
    long needed = segmentSize(slots);
    long size = Math.max(1, needed - 1 - random.nextInt((int) needed - 1));
    byte[] image = Arrays.copyOf(b.array(), (int) size);
    return new Case(
        "a header of " + slots + " slots (" + needed + " bytes) in a segment of " + size,
        key,
        create(key, image, size),
        image,
        String.valueOf(size));
  }

  /** A header that is all there but its layout version, still 0, as while a master writes it. */
  private Case unfinished(int key) {
    int slots = 1 + random.nextInt(8);
    ByteBuffer b = validImage(slots, pid(), heartbeat());
    b.putInt(LAYOUT_VERSION_OFFSET, 0);
    if (random.nextBoolean()) {
      b.putLong(MAGIC_OFFSET, 0);
    }
    byte[] image = b.array();
    return new Case(
        "a header of " + slots + " slots with layout version 0 (not ready)",
        key,
        create(key, image),
        image,
        null);
  }

  /** A valid header in a segment longer than its slots need. */
  private Case longer(int key) {
    int slots = 1 + random.nextInt(8);
    ByteBuffer b = validImage(slots, pid(), heartbeat());
    long size = segmentSize(slots) + 1 + random.nextInt(4096);
    byte[] image = Arrays.copyOf(b.array(), (int) size);
    return new Case(
        "a header of " + slots + " slots in a segment of " + size + " bytes",
        key,
        create(key, image, size),
        image,
        String.valueOf(size));
  }

  /** One field of a valid header made a lie. */
  private Case lie(int key) {
    int slots = 1 + random.nextInt(8);
    ByteBuffer b = validImage(slots, pid(), heartbeat());
    List<Runnable> lies = new ArrayList<>();
    String[] what = new String[2];
    // ints: offset, name, invalid values
    addInt(
        lies,
        what,
        b,
        SLOT_COUNT_OFFSET,
        "slotCount",
        0,
        -1,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE,
        MAX_SLOTS + 1,
        slots + 1,
        slots * 2,
        slots == 1 ? 2 : slots - 1);
    addInt(
        lies,
        what,
        b,
        SLOT_SIZE_OFFSET,
        "slotSize",
        0,
        -1,
        64,
        127,
        129,
        256,
        -SLOT_SIZE,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE);
    addInt(
        lies,
        what,
        b,
        WORKERS_PER_CHILD_OFFSET,
        "workersPerChild",
        0,
        -1,
        2,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE,
        65_537);
    addInt(
        lies,
        what,
        b,
        MAX_CHILDREN_OFFSET,
        "maxChildren",
        0,
        -1,
        slots + 1,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE);
    addInt(
        lies,
        what,
        b,
        MIN_CHILDREN_OFFSET,
        "minChildren",
        -1,
        slots + 1,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE);
    addInt(
        lies,
        what,
        b,
        MASTER_PID_OFFSET,
        "masterPid",
        0,
        -1,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE,
        4_194_305);
    addInt(
        lies,
        what,
        b,
        LISTEN_ADDRESS_LENGTH_OFFSET,
        "listenAddressLength",
        -1,
        1,
        5,
        15,
        17,
        4096,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE);
    addInt(
        lies,
        what,
        b,
        LISTEN_PORT_OFFSET,
        "listenPort",
        -1,
        65_536,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE);
    addInt(
        lies,
        what,
        b,
        LAYOUT_VERSION_OFFSET,
        "layoutVersion",
        2,
        -1,
        LAYOUT_VERSION + 100,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE);
    addLong(lies, what, b, MASTER_START_OFFSET, "masterStartMillis", 0, -1, Long.MIN_VALUE);
    addLong(lies, what, b, HEARTBEAT_OFFSET, "heartbeatMillis", 0, -1, Long.MIN_VALUE);
    addLong(
        lies,
        what,
        b,
        MAGIC_OFFSET,
        "magic",
        MAGIC + 1,
        MAGIC ^ (1L << 63),
        Long.reverseBytes(MAGIC),
        -1,
        0x4b524f4645525031L);
    lies.get(random.nextInt(lies.size())).run();
    byte[] image = b.array();
    return new Case(
        "a valid header of " + slots + " slots but " + what[0],
        key,
        create(key, image),
        image,
        what[1]);
  }

  private void addInt(
      List<Runnable> lies, String[] what, ByteBuffer b, int offset, String name, int... values) {
    lies.add(
        () -> {
          int v = values[random.nextInt(values.length)];
          b.putInt(offset, v);
          what[0] = name + " = " + v;
          what[1] = String.valueOf(v);
        });
  }

  private void addLong(
      List<Runnable> lies, String[] what, ByteBuffer b, int offset, String name, long... values) {
    lies.add(
        () -> {
          long v = values[random.nextInt(values.length)];
          b.putLong(offset, v);
          what[0] = name + " = " + v;
          what[1] = name.equals("magic") ? String.format("0x%016x", v) : String.valueOf(v);
        });
  }

  /** A master pid: alive (this JVM), gone, or pid 1 (alive, not ours). */
  private int pid() {
    return switch (random.nextInt(3)) {
      case 0 -> (int) ProcessHandle.current().pid();
      case 1 -> deadPid();
      default -> 1;
    };
  }

  /** A heartbeat: fresh, or a minute old. */
  private long heartbeat() {
    long now = System.currentTimeMillis();
    return random.nextBoolean() ? now : now - 60_000;
  }
}
