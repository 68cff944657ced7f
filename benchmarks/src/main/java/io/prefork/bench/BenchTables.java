package io.prefork.bench;

import io.prefork.shm.MasterTable;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.TableSpec;
import java.net.InetAddress;
import java.util.concurrent.ThreadLocalRandom;

/** Keys and tables for the benchmarks: real System V segments that nothing else uses. */
final class BenchTables {
  /**
   * Benchmark keys live in 0x7d000000..0x7dffffff, away from the tests' 0x7e... and the examples'
   * 0x6905.
   */
  static final int KEY_PREFIX = 0x7d00_0000;

  // The JVM options chronicle-bytes needs (the parent pom's chronicle.jvm.args): every benchmark
  // class passes them to its forks with @Fork(jvmArgsAppend = ...).

  /** Lets chronicle-bytes reach into java.lang.reflect. */
  static final String ADD_OPENS_REFLECT = "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED";

  /** Lets chronicle-bytes use the JDK's cleaners. */
  static final String ADD_EXPORTS_REF = "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED";

  /** Lets chronicle-bytes use direct buffers' internals. */
  static final String ADD_EXPORTS_NIO = "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED";

  private BenchTables() {}

  /** A table spec with {@code maxChildren} children of {@code workersPerChild} workers each. */
  static TableSpec spec(int maxChildren, int workersPerChild) {
    return new TableSpec(
        maxChildren, 1, workersPerChild, InetAddress.getLoopbackAddress(), 6905, 128);
  }

  /** Creates a master table at a fresh random key in the benchmark range. */
  static MasterTable createMaster(TableSpec spec) {
    while (true) {
      int key = KEY_PREFIX | ThreadLocalRandom.current().nextInt(1, 0x0100_0000);
      if (ShmSegment.stat(key).isEmpty()) {
        return MasterTable.create(key, spec);
      }
    }
  }

  /**
   * Takes the segment's name away once everyone is attached (IPC_RMID): the kernel then frees it
   * when the last attachment goes, so even a killed fork leaves nothing behind in {@code ipcs -m}.
   * The mappings keep working; the master's {@code close()} in the tear-down still detaches.
   */
  static void unlinkEarly(int key) {
    ShmSegment.remove(key);
  }
}
