package io.prefork.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** Clients that keep asking "ping" on new connections and count every failure. */
final class LoadClient {
  private final int port;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong succeeded = new AtomicLong();
  private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

  /** When each failure happened, on System.nanoTime. */
  private final ConcurrentLinkedQueue<Long> failedAtNanos = new ConcurrentLinkedQueue<>();

  private final List<Thread> threads = new ArrayList<>();

  private final long pauseMillis;

  private LoadClient(int port, long pauseMillis) {
    this.port = port;
    this.pauseMillis = pauseMillis;
  }

  static LoadClient start(int port, int threads) {
    return start(port, threads, 0);
  }

  /** Threads that each make one request per connection, pausing between requests. */
  static LoadClient start(int port, int threads, long pauseMillis) {
    LoadClient load = new LoadClient(port, pauseMillis);
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(load::run, "load-" + i);
      t.setDaemon(true);
      load.threads.add(t);
      t.start();
    }
    return load;
  }

  private void run() {
    while (running.get()) {
      try {
        String answer = Client.ask(port, "ping");
        if ("pong".equals(answer)) {
          succeeded.incrementAndGet();
        } else {
          failedAtNanos.add(System.nanoTime());
          failures.add("answer " + answer);
        }
      } catch (Exception e) {
        failedAtNanos.add(System.nanoTime());
        failures.add(e.toString());
      }
      if (pauseMillis > 0) {
        try {
          Thread.sleep(pauseMillis);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(10_000);
    }
  }

  long succeeded() {
    return succeeded.get();
  }

  long failed() {
    return failures.size();
  }

  List<String> failures() {
    return List.copyOf(failures);
  }

  /** When each failed request failed, on System.nanoTime, in no particular order. */
  List<Long> failureTimes() {
    return List.copyOf(failedAtNanos);
  }
}
