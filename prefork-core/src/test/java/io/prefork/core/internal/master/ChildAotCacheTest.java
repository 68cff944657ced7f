package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The AOT cache's training, on real files; the JVM's side of it is in HardeningTest. */
class ChildAotCacheTest {
  @TempDir Path dir;

  private ChildAotCache cache() {
    return new ChildAotCache(dir.resolve("c.aot"), dir.resolve("c.aot.1.tmp"));
  }

  @Test
  void oneChildTrainsAndItsExitMakesTheCacheEveryLaterChildStartsWith() throws Exception {
    ChildAotCache aot = cache();
    assertEquals(
        List.of("-XX:AOTCacheOutput=" + dir.resolve("c.aot.1.tmp")),
        aot.optionsForNextChild(false));
    aot.spawned(100);
    assertNull(aot.optionsForNextChild(false), "one trainee at a time: the archive's options");
    aot.spawned(101);
    aot.childGone(101); // not the trainee
    assertNull(aot.optionsForNextChild(false));
    Files.writeString(dir.resolve("c.aot.1.tmp"), "cache");
    aot.childGone(100);
    assertEquals(List.of("-XX:AOTCache=" + dir.resolve("c.aot")), aot.optionsForNextChild(false));
    assertFalse(Files.exists(dir.resolve("c.aot.1.tmp")), "moved, not copied");
    assertEquals(
        List.of("-XX:AOTCache=" + dir.resolve("c.aot")),
        cache().optionsForNextChild(false),
        "the next master finds it");
  }

  @Test
  void theChildThatRecordsTheArchivesClassListIsNotTheTrainee() {
    ChildAotCache aot = cache();
    assertNull(aot.optionsForNextChild(true));
    assertTrue(aot.optionsForNextChild(false).get(0).startsWith("-XX:AOTCacheOutput="));
  }

  @Test
  void aTraineeThatWroteNothingIsReplacedThreeTimesThenTheCacheIsGivenUp() {
    ChildAotCache aot = cache();
    for (int i = 0; i < ChildAotCache.MAX_TRAININGS; i++) {
      assertTrue(aot.optionsForNextChild(false).get(0).startsWith("-XX:AOTCacheOutput="));
      aot.spawned(200 + i);
      aot.childGone(200 + i); // killed before it wrote its cache
    }
    assertNull(aot.optionsForNextChild(false), "children start with the archive instead");
  }

  @Test
  void aFailedSpawnLetsTheNextChildTrain() {
    ChildAotCache aot = cache();
    aot.optionsForNextChild(false);
    aot.spawnFailed();
    assertTrue(aot.optionsForNextChild(false).get(0).startsWith("-XX:AOTCacheOutput="));
  }

  @Test
  void aCacheOthersCanWriteIsNotUsed() throws Exception {
    Path file = Files.writeString(dir.resolve("c.aot"), "cache");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
    assertTrue(
        cache().optionsForNextChild(false).get(0).startsWith("-XX:AOTCacheOutput="),
        "retrained rather than trusted");
  }

  @Test
  void closeLeavesNoPartialCache() throws Exception {
    ChildAotCache aot = cache();
    aot.optionsForNextChild(false);
    aot.spawned(300);
    Files.writeString(dir.resolve("c.aot.1.tmp"), "half");
    aot.close();
    assertFalse(Files.exists(dir.resolve("c.aot.1.tmp")));
  }
}
