package io.prefork.shm;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.testing.JavaProcesses;
import io.prefork.shm.testing.ShmKeysExtension;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two real processes on one segment. */
class CrossProcessTest {
  @RegisterExtension final ShmKeysExtension keys = new ShmKeysExtension();
  @RegisterExtension final JavaProcesses processes = new JavaProcesses();

  private Process peer(String... args) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(JavaProcesses.command(TablePeer.class.getName(), args));
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    return processes.start(pb);
  }

  private static BufferedReader out(Process p) {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  @Test
  void aSecondProcessSeesTheMastersWritesAndTheMasterSeesItsWrites() throws Exception {
    int key = keys.newKey();
    TableSpec spec = new TableSpec(2, 1, 1, InetAddress.getLoopbackAddress(), 1, 1);
    try (MasterTable master = MasterTable.create(key, spec)) {
      master.generation(5);
      master.reserve(1, 0, 5, System.currentTimeMillis());
      Process p = peer("worker", ShmKeys.toHex(key), "1");
      BufferedReader r = out(p);
      assertEquals("generation=5", r.readLine());
      assertEquals("calls=3", r.readLine());
      SlotSnapshot slot = master.readSlot(1);
      assertEquals(SlotState.BUSY, slot.state());
      assertEquals(3, slot.calls());
      assertEquals(2, master.stat().attachCount());
      assertTrue(master.requestExit(1, ExitRequest.RESTART));
      assertEquals("exit=RESTART", r.readLine());
      assertTrue(p.waitFor(10, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue());
      assertEquals(SlotState.EXITING, master.state(1));
      assertEquals(1, master.stat().attachCount(), "the peer detached on exit");
    }
  }

  @Test
  void twoProcessesCompareAndSwappingOneWordLoseNoIncrement() throws Exception {
    int key = keys.newKey();
    int perProcess = 1_000_000;
    TableSpec spec = new TableSpec(1, 1, 1, InetAddress.getLoopbackAddress(), 1, 1);
    try (MasterTable master = MasterTable.create(key, spec);
        ControlPort port = ControlPort.attach(key)) {
      Process a = peer("cas", ShmKeys.toHex(key), Integer.toString(perProcess));
      Process b = peer("cas", ShmKeys.toHex(key), Integer.toString(perProcess));
      BufferedReader ra = out(a);
      BufferedReader rb = out(b);
      assertEquals("ready", ra.readLine());
      assertEquals("ready", rb.readLine());
      assertEquals("done", ra.readLine());
      assertEquals("done", rb.readLine());
      assertTrue(a.waitFor(30, TimeUnit.SECONDS));
      assertTrue(b.waitFor(30, TimeUnit.SECONDS));
      long word = port.commandWord();
      assertEquals(2L * perProcess, SharedStatusTable.commandSequence(word));
      assertEquals(Command.RESTART.code(), SharedStatusTable.commandCode(word));
    }
  }

  @Test
  void aZeroedSegmentOfAGoneCreatorIsRefusedAndKept() throws Exception {
    int key = keys.newKey();
    Process p = peer("zeros", ShmKeys.toHex(key), "4096");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue());
    int id = ShmSegment.stat(key).orElseThrow().id();
    TableSpec spec = new TableSpec(2, 1, 1, InetAddress.getLoopbackAddress(), 1, 1);
    StatusTableException e =
        assertThrows(StatusTableException.class, () -> MasterTable.create(key, spec));
    assertEquals(StatusTableException.Reason.FOREIGN, e.reason());
    assertTrue(e.getMessage().contains("ipcrm -M " + ShmKeys.toHex(key)), e.getMessage());
    StatusTableException read =
        assertThrows(StatusTableException.class, () -> TableReader.attach(key));
    assertEquals(StatusTableException.Reason.FOREIGN, read.reason());
    assertTrue(read.getMessage().contains("is gone"), read.getMessage());
    assertEquals(id, ShmSegment.stat(key).orElseThrow().id(), "the segment is left alone");
  }
}
