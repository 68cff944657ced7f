package io.prefork.bench;

import io.prefork.shm.ChildTable;
import io.prefork.shm.MasterTable;
import io.prefork.shm.TableReader;
import io.prefork.shm.TableSnapshot;
import io.prefork.shm.WorkerSlot;
import java.util.concurrent.TimeUnit;
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

/**
 * A controller's full read of a 200-slot table (200 children of one worker, every slot reserved,
 * half idle and half busy) through a read-only {@link TableReader}: what {@code ctl status} and a
 * status page pay per refresh.
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
public class TableSnapshotBenchmark {
  static final int SLOTS = 200;

  private MasterTable master;
  private ChildTable child;
  private TableReader reader;

  @Setup(Level.Trial)
  public void setUp() {
    long now = System.currentTimeMillis();
    master = BenchTables.createMaster(BenchTables.spec(SLOTS, 1));
    int pid = (int) ProcessHandle.current().pid();
    for (int i = 0; i < SLOTS; i++) {
      master.reserve(i, 0, 1, now);
      master.pid(i, pid);
    }
    child = ChildTable.attach(master.key(), 0, SLOTS);
    for (int i = 0; i < SLOTS; i++) {
      WorkerSlot slot = child.worker(i);
      slot.markIdle(now);
      if (i % 2 == 1) {
        slot.markBusy(now + i);
      }
    }
    reader = TableReader.attach(master.key());
    BenchTables.unlinkEarly(master.key());
  }

  @Benchmark
  public TableSnapshot snapshot() {
    return reader.snapshot();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    try {
      reader.close();
      child.close();
    } finally {
      master.close();
    }
  }
}
