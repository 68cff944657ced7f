package io.prefork.bench;

import io.prefork.shm.ChildTable;
import io.prefork.shm.MasterTable;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.WorkerSlot;
import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.core.UnsafeMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import sun.misc.Unsafe;

/**
 * Where a {@link WorkerSlot} transition cycle's time goes: the same five ordered stores to the same
 * slot of the same segment (the layout of {@code SharedStatusTable}), made by {@link WorkerSlot},
 * by chronicle-bytes' {@code BytesStore} without WorkerSlot's attached check, by chronicle-core's
 * {@code UnsafeMemory.MEMORY} on an absolute address, and by raw {@code Unsafe}, each with and
 * without a volatile "attached" read like WorkerSlot's {@code table.checkAttached()}.
 *
 * <p>A diagnostic, not a target: compare it with {@link TableTransitionBenchmark} when that one
 * regresses.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      BenchTables.ADD_OPENS_REFLECT,
      BenchTables.ADD_EXPORTS_REF,
      BenchTables.ADD_EXPORTS_NIO
    })
public class SlotStoreOverheadBenchmark {
  // SharedStatusTable's layout (package-private there): the header size, fields of a slot.
  private static final long HEADER_SIZE = 256;
  private static final long STATE_OFFSET = 0;
  private static final long CALLS_OFFSET = 24;
  private static final long STATE_SINCE_OFFSET = 32;
  private static final int IDLE = 2;
  private static final int BUSY = 3;

  private static final Unsafe UNSAFE = unsafe();
  private static final UnsafeMemory MEMORY = UnsafeMemory.MEMORY;

  private MasterTable master;
  private ChildTable child;
  private WorkerSlot slot;
  private ShmSegment raw;
  private BytesStore<?, ?> store;
  private long base;
  private long address;
  private long calls;
  private long now;
  private volatile boolean attached = true;

  @Setup(Level.Trial)
  public void setUp() {
    now = System.currentTimeMillis();
    master = BenchTables.createMaster(BenchTables.spec(4, 1));
    master.reserve(0, 0, 1, now);
    child = ChildTable.attach(master.key(), 0, 1);
    slot = child.worker(0);
    // A second read-write mapping of the same segment: the same physical slot, reachable here.
    raw = ShmSegment.attach(master.key(), false);
    store = BytesStore.wrap(raw.address(), raw.size());
    base = HEADER_SIZE; // slot 0
    address = raw.address() + base;
    BenchTables.unlinkEarly(master.key());
  }

  /** WorkerSlot as the library ships it (same as {@link TableTransitionBenchmark}). */
  @Benchmark
  public void workerSlot() {
    slot.markBusy(now);
    slot.markIdle(now);
  }

  /** chronicle-bytes' writeOrdered* through a BytesStore field, without the attached check. */
  @Benchmark
  public void chronicleNoCheck() {
    store.writeOrderedLong(base + CALLS_OFFSET, ++calls);
    store.writeOrderedLong(base + STATE_SINCE_OFFSET, now);
    store.writeOrderedInt(base + STATE_OFFSET, BUSY);
    store.writeOrderedLong(base + STATE_SINCE_OFFSET, now);
    store.writeOrderedInt(base + STATE_OFFSET, IDLE);
  }

  /**
   * Not an option (plain stores lose the ordering readers rely on), a control: the same chronicle
   * calls as {@link #chronicleNoCheck} with plain stores, which on x86 are the same instructions,
   * so any difference is what the JIT can't hoist past the release stores (the re-loads of the
   * store's non-final {@code memory}/{@code address} fields and their type guards).
   */
  @Benchmark
  public void chroniclePlainStores() {
    store.writeLong(base + CALLS_OFFSET, ++calls);
    store.writeLong(base + STATE_SINCE_OFFSET, now);
    store.writeInt(base + STATE_OFFSET, BUSY);
    store.writeLong(base + STATE_SINCE_OFFSET, now);
    store.writeInt(base + STATE_OFFSET, IDLE);
  }

  /** chronicle-bytes with a volatile read before each half, as WorkerSlot does. */
  @Benchmark
  public void chronicleVolatileCheck() {
    if (!attached) {
      throw new IllegalStateException("detached");
    }
    store.writeOrderedLong(base + CALLS_OFFSET, ++calls);
    store.writeOrderedLong(base + STATE_SINCE_OFFSET, now);
    store.writeOrderedInt(base + STATE_OFFSET, BUSY);
    if (!attached) {
      throw new IllegalStateException("detached");
    }
    store.writeOrderedLong(base + STATE_SINCE_OFFSET, now);
    store.writeOrderedInt(base + STATE_OFFSET, IDLE);
  }

  /** The floor: Unsafe ordered stores to the slot's absolute address, nothing else. */
  @Benchmark
  public void unsafeNoCheck() {
    UNSAFE.putOrderedLong(null, address + CALLS_OFFSET, ++calls);
    UNSAFE.putOrderedLong(null, address + STATE_SINCE_OFFSET, now);
    UNSAFE.putOrderedInt(null, address + STATE_OFFSET, BUSY);
    UNSAFE.putOrderedLong(null, address + STATE_SINCE_OFFSET, now);
    UNSAFE.putOrderedInt(null, address + STATE_OFFSET, IDLE);
  }

  /** Unsafe ordered stores with a volatile read before each half, as WorkerSlot does. */
  @Benchmark
  public void unsafeVolatileCheck() {
    if (!attached) {
      throw new IllegalStateException("detached");
    }
    UNSAFE.putOrderedLong(null, address + CALLS_OFFSET, ++calls);
    UNSAFE.putOrderedLong(null, address + STATE_SINCE_OFFSET, now);
    UNSAFE.putOrderedInt(null, address + STATE_OFFSET, BUSY);
    if (!attached) {
      throw new IllegalStateException("detached");
    }
    UNSAFE.putOrderedLong(null, address + STATE_SINCE_OFFSET, now);
    UNSAFE.putOrderedInt(null, address + STATE_OFFSET, IDLE);
  }

  /**
   * chronicle-core's {@code UnsafeMemory.MEMORY} (a static final of a concrete class, so no type
   * guard and no field reload) on the slot's absolute address, nothing else.
   */
  @Benchmark
  public void memoryNoCheck() {
    MEMORY.writeOrderedLong(address + CALLS_OFFSET, ++calls);
    MEMORY.writeOrderedLong(address + STATE_SINCE_OFFSET, now);
    MEMORY.writeOrderedInt(address + STATE_OFFSET, BUSY);
    MEMORY.writeOrderedLong(address + STATE_SINCE_OFFSET, now);
    MEMORY.writeOrderedInt(address + STATE_OFFSET, IDLE);
  }

  /**
   * What WorkerSlot could do: {@code UnsafeMemory.MEMORY} on the slot's absolute address, with the
   * segment's own {@code isAttached()} volatile read (one hop, not table.segment.attached) before
   * each half.
   */
  @Benchmark
  public void memorySegmentCheck() {
    if (!raw.isAttached()) {
      throw new IllegalStateException("detached");
    }
    MEMORY.writeOrderedLong(address + CALLS_OFFSET, ++calls);
    MEMORY.writeOrderedLong(address + STATE_SINCE_OFFSET, now);
    MEMORY.writeOrderedInt(address + STATE_OFFSET, BUSY);
    if (!raw.isAttached()) {
      throw new IllegalStateException("detached");
    }
    MEMORY.writeOrderedLong(address + STATE_SINCE_OFFSET, now);
    MEMORY.writeOrderedInt(address + STATE_OFFSET, IDLE);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    try {
      raw.detach();
      child.close();
    } finally {
      master.close();
    }
  }

  private static Unsafe unsafe() {
    try {
      Field f = Unsafe.class.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      return (Unsafe) f.get(null);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
