package io.prefork.core.internal.master;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On JDK 25 and later, an AOT cache of the children's classes, linked state and method profiles
 * (JEPs 483, 514, 515), trained by one child's whole life under the real load: that child runs with
 * {@code -XX:AOTCacheOutput} and writes the cache as it exits (a restart, recycling, retirement or
 * stop), and every child spawned after that starts with {@code -XX:AOTCache}: it starts sooner and
 * compiles its hot code from the trainee's profiles, so a restart or recycling under load dips
 * shorter (docs/performance.md: over the 10 s after a restart under the CPU job, 78-80 % of steady
 * against 63-66 %). Until then, and on older JDKs, children map the class-data archive of {@link
 * ChildClassData}; one JVM cannot use both. The cache sits next to that archive, under the same
 * name but {@code .aot}, and is trusted the same way.
 */
final class ChildAotCache {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** The first JDK whose AOT cache keeps method profiles and is written in one run. */
  static final int MIN_FEATURE_VERSION = 25;

  /** Trainees that may exit without writing a cache before it is given up. */
  static final int MAX_TRAININGS = 3;

  private enum State {
    NEEDS_TRAINING,
    TRAINING,
    READY,
    FAILED
  }

  private final Path cache;
  private final Path partial;
  private State state;
  private int traineePid;
  private int failedTrainings;

  /**
   * @param cache where the cache is kept
   * @param partial where the trainee writes it (unique to this master)
   */
  ChildAotCache(Path cache, Path partial) {
    this.cache = cache;
    this.partial = partial;
    this.state = ChildClassData.trusted(cache) ? State.READY : State.NEEDS_TRAINING;
  }

  /** {@return where the cache is kept} */
  Path cache() {
    return cache;
  }

  /**
   * The options for the child about to be spawned, or null when it should use the class-data
   * archive instead.
   *
   * @param recordsClassList whether that child records the class-data archive's class list (the two
   *     trainings exclude each other)
   */
  synchronized List<String> optionsForNextChild(boolean recordsClassList) {
    if (state == State.READY) {
      if (ChildClassData.trusted(cache)) {
        return List.of("-XX:AOTCache=" + cache);
      }
      log.warn("the children's AOT cache {} is gone or not trusted any more; retraining", cache);
      state = State.NEEDS_TRAINING;
    }
    if (state == State.NEEDS_TRAINING && !recordsClassList) {
      state = State.TRAINING;
      traineePid = 0;
      deleteQuietly(partial);
      return List.of("-XX:AOTCacheOutput=" + partial);
    }
    return null;
  }

  /** The child just spawned with {@link #optionsForNextChild}'s options has this pid. */
  synchronized void spawned(int pid) {
    if (state == State.TRAINING && traineePid == 0) {
      traineePid = pid;
    }
  }

  /** The spawn with the last options failed: a later child trains instead. */
  synchronized void spawnFailed() {
    if (state == State.TRAINING && traineePid == 0) {
      state = State.NEEDS_TRAINING;
    }
  }

  /** A child is gone: if it was the trainee, its cache is taken, or a later child trains. */
  synchronized void childGone(int pid) {
    if (state != State.TRAINING || pid != traineePid) {
      return;
    }
    try {
      if (Files.isRegularFile(partial) && Files.size(partial) > 0) {
        try {
          Files.move(
              partial, cache, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(partial, cache, StandardCopyOption.REPLACE_EXISTING);
        }
        state = State.READY;
        log.info(
            "children's AOT cache {} written by pid {} as it exited ({} KB): children spawned from"
                + " now on start with its classes and method profiles",
            cache,
            pid,
            Files.size(cache) / 1024);
        return;
      }
    } catch (IOException e) {
      log.debug("could not take the AOT cache of pid {}: {}", pid, e.toString());
    }
    deleteQuietly(partial);
    failedTrainings++;
    state = failedTrainings >= MAX_TRAININGS ? State.FAILED : State.NEEDS_TRAINING;
    if (state == State.FAILED) {
      log.warn(
          "{} children exited without writing the AOT cache {} (killed, or the JVM refused):"
              + " children start without it",
          failedTrainings,
          cache);
    }
  }

  /** The master stops: a cache never written leaves no file behind. */
  synchronized void close() {
    deleteQuietly(partial);
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // a leftover temporary file; nothing depends on it
    }
  }
}
