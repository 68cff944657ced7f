package io.prefork.shm;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.testing.ShmKeysExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ShmSegmentTest {
  @RegisterExtension final ShmKeysExtension keys = new ShmKeysExtension();

  @Test
  void createsAnExclusiveSegmentWithMode0600OwnedByUs() {
    int key = keys.newKey();
    try (ShmSegment segment = ShmSegment.create(key, 4096)) {
      ShmStat stat = segment.stat();
      assertEquals(0600, stat.mode(), "mode " + stat.modeOctal());
      assertEquals("0600", stat.modeOctal());
      assertEquals(4096, stat.size());
      assertEquals(key, stat.key());
      assertEquals(Native.libc().geteuid(), stat.ownerUid());
      assertEquals(ProcessHandle.current().pid(), stat.creatorPid());
      assertEquals(1, stat.attachCount());
      assertFalse(stat.markedForRemoval());
      assertEquals(4096, segment.size());
      assertEquals(stat, ShmSegment.stat(key).orElseThrow());
    }
  }

  @Test
  void aSecondCreateOnTheSameKeyFailsWithEexistNamingKeyAndOwner() {
    int key = keys.newKey();
    try (ShmSegment first = ShmSegment.create(key, 4096)) {
      ShmException e = assertThrows(ShmException.class, () -> ShmSegment.create(key, 4096));
      assertEquals("EEXIST", e.errnoName());
      assertEquals(key, e.key());
      assertTrue(e.getMessage().contains(ShmKeys.toHex(key)), e.getMessage());
      assertTrue(e.getMessage().contains("already exists"), e.getMessage());
      assertTrue(e.getMessage().contains("owner uid " + Native.libc().geteuid()), e.getMessage());
      assertTrue(e.getMessage().contains("ipcrm -M"), e.getMessage());
    }
  }

  @Test
  void attachingAMissingKeyFailsWithEnoentAndSaysWhatToCheck() {
    int key = keys.newKey();
    ShmException e = assertThrows(ShmException.class, () -> ShmSegment.attach(key, true));
    assertEquals("shmget", e.call());
    assertEquals("ENOENT", e.errnoName());
    assertTrue(e.getMessage().contains("No such file or directory"), e.getMessage());
    assertTrue(e.getMessage().contains("is the server running"), e.getMessage());
    assertTrue(ShmSegment.stat(key).isEmpty());
    assertFalse(ShmSegment.remove(key));
  }

  @Test
  void attachSharesTheMemoryAndCountsAttachments() {
    int key = keys.newKey();
    try (ShmSegment owner = ShmSegment.create(key, 4096);
        ShmSegment reader = ShmSegment.attach(key, true)) {
      assertTrue(reader.isReadOnly());
      assertEquals(2, owner.stat().attachCount());
      var w = net.openhft.chronicle.bytes.BytesStore.wrap(owner.address(), owner.size());
      var r = net.openhft.chronicle.bytes.BytesStore.wrap(reader.address(), reader.size());
      w.writeVolatileLong(128, 0x1234_5678_9abcL);
      assertEquals(0x1234_5678_9abcL, r.readVolatileLong(128));
      reader.detach();
      reader.detach(); // idempotent
      assertFalse(reader.isAttached());
      assertEquals(1, owner.stat().attachCount());
    }
  }

  @Test
  void removeHidesTheKeyAtOnceAndTheMemoryLivesUntilDetach() {
    int key = keys.newKey();
    try (ShmSegment segment = ShmSegment.create(key, 4096)) {
      segment.remove();
      assertTrue(ShmSegment.stat(key).isEmpty(), "key still visible after IPC_RMID");
      ShmStat stat = segment.stat();
      assertTrue(stat.markedForRemoval());
      var bytes = net.openhft.chronicle.bytes.BytesStore.wrap(segment.address(), segment.size());
      bytes.writeVolatileInt(0, 42);
      assertEquals(42, bytes.readVolatileInt(0));
      segment.remove(); // idempotent
    }
  }

  @Test
  void keysParseInHexAndDecimalAndRefuseNonsense() {
    assertEquals(0x6905, ShmKeys.parse("0x6905"));
    assertEquals(26885, ShmKeys.parse("26885"));
    assertEquals(0xffffffff, ShmKeys.parse("0xffffffff"));
    assertEquals("0x00006905", ShmKeys.toHex(0x6905));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ShmKeys.parse("69o5"));
    assertTrue(e.getMessage().contains("'69o5'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ShmKeys.parse("0"));
    assertThrows(IllegalArgumentException.class, () -> ShmKeys.parse("0x100000000"));
  }
}
