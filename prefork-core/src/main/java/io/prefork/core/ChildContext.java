package io.prefork.core;

/** What a {@link ChildJob} may know about the child it runs in. */
public interface ChildContext {

  /**
   * The child's index in the pool (0-based; a replacement reuses the index of the one it replaces).
   */
  int childIndex();

  /** The generation the child was started in; every restart starts a new one. */
  long generation();

  /** Worker threads in this child, each serving one connection at a time. */
  int workerThreads();

  /** The pid of the master that spawned this child. */
  long masterPid();

  /** The key of the server's shared status table. */
  int shmKey();
}
