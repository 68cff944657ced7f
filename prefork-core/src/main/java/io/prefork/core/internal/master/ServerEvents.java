package io.prefork.core.internal.master;

import io.prefork.core.internal.protocol.ExitStatus;

/**
 * What the master tells its observers (systemd notification, metrics, JMX). Called on the master
 * thread; implementations must be quick and must not throw.
 */
public interface ServerEvents {
  /** The pool is ready: {@code minChildren} accept. */
  default void ready(ServerView view) {}

  /** A child was spawned. */
  default void spawned(ChildProcess child) {}

  /** A child's workers all accept for the first time, {@code startupNanos} after its spawn. */
  default void childReady(ChildProcess child, long startupNanos) {}

  /** A child is gone; {@code cause} is why (see {@link ExitCause}). */
  default void exited(ChildProcess child, ExitStatus status, ExitCause cause) {}

  /** Once per tick, with the pool as it is now. */
  default void tick(ServerView view) {}

  /** A restart began ({@code true}) or completed ({@code false}). */
  default void restarting(boolean begins) {}

  /** A wait-down or force-down began. */
  default void stopping() {}

  /** The master stopped. */
  default void stopped() {}

  /** Many observers as one. */
  static ServerEvents all(java.util.List<ServerEvents> observers) {
    return new ServerEvents() {
      @Override
      public void ready(ServerView view) {
        observers.forEach(o -> o.ready(view));
      }

      @Override
      public void spawned(ChildProcess child) {
        observers.forEach(o -> o.spawned(child));
      }

      @Override
      public void childReady(ChildProcess child, long startupNanos) {
        observers.forEach(o -> o.childReady(child, startupNanos));
      }

      @Override
      public void exited(ChildProcess child, ExitStatus status, ExitCause cause) {
        observers.forEach(o -> o.exited(child, status, cause));
      }

      @Override
      public void tick(ServerView view) {
        observers.forEach(o -> o.tick(view));
      }

      @Override
      public void restarting(boolean begins) {
        observers.forEach(o -> o.restarting(begins));
      }

      @Override
      public void stopping() {
        observers.forEach(ServerEvents::stopping);
      }

      @Override
      public void stopped() {
        observers.forEach(ServerEvents::stopped);
      }
    };
  }
}
