package io.prefork.core;

/** What a {@link ChildJob} may know about the child it runs in. */
public interface ChildContext {

  /**
   * The child's index in the pool (0-based; a replacement reuses the index of the one it replaces).
   *
   * @return the child's index in the pool
   */
  int childIndex();

  /** {@return the generation the child was started in; every restart starts a new one} */
  long generation();

  /**
   * {@return worker threads in this child at most (threadsPerChild), each serving one connection at
   * a time; fewer may be running (minThreadsPerChild accept at first, the rest start as they are
   * needed): size per-thread resources to grow with use rather than up front}
   */
  int workerThreads();

  /** {@return the pid of the master that spawned this child} */
  long masterPid();

  /** {@return the key of the server's shared status table} */
  int shmKey();
}
