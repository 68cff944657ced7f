package io.prefork.core.internal.master;

import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Everything children print, line by line, tagged with slot and pid: their stdout and stderr are
 * one pipe each to the master, which one thread reads (poll) and hands to the master's log (logger
 * {@code io.prefork.child}) or, if configured, to one file per child slot. Nothing a child prints
 * is lost, thread dumps included, and no child holds the master's own output open.
 */
public final class ChildOutput implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.child");
  private static final int MAX_LINE = 16 * 1024;

  /** A level word as slf4j-simple, logback or java.util.logging print it. */
  private static final Pattern LEVEL =
      Pattern.compile("(?<![\\w.])(ERROR|WARN|WARNING|INFO|DEBUG|TRACE)(?![\\w.])");

  /** Lines of each child kept for {@link #lastWords}. */
  private static final int RECENT_LINES = 20;

  /** Children whose recent lines are kept after their pipe closed. */
  private static final int FINISHED_KEPT = 32;

  private final int threadsPerChild;
  private final Path directory;
  private final Map<Integer, Source> sources = new ConcurrentHashMap<>();
  private final Map<Integer, OutputStream> files = new HashMap<>();
  private final Thread thread;
  private volatile boolean closing;

  /** The last lines of children whose pipe reached end-of-file, by pid; guarded by itself. */
  private final Map<Integer, Deque<String>> finished =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Deque<String>> eldest) {
          return size() > FINISHED_KEPT;
        }
      };

  /** One child's pipe. */
  private static final class Source {
    final int fd;
    final String tag;
    final int childIndex;
    final int pid;
    final byte[] line = new byte[MAX_LINE];
    final Deque<String> recent = new ArrayDeque<>();
    int length;
    Level level = Level.INFO;

    Source(int fd, String tag, int childIndex, int pid) {
      this.fd = fd;
      this.tag = tag;
      this.childIndex = childIndex;
      this.pid = pid;
    }
  }

  ChildOutput(int threadsPerChild, Path directory, String name) {
    this.threadsPerChild = threadsPerChild;
    this.directory = directory;
    this.thread = new Thread(this::run, "prefork-child-output-" + name);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Makes the pipe for a child about to be spawned: {read end, write end}, both close-on-exec. */
  int[] newPipe() {
    return Libc.pipe2(Libc.O_CLOEXEC);
  }

  /** The child was spawned with the pipe's write end as stdout and stderr: read its output. */
  void attach(int[] pipe, int childIndex, int pid) {
    Libc.close(pipe[1]); // the child has its copy; EOF comes when the child is gone
    sources.put(pipe[0], new Source(pipe[0], tag(childIndex, pid), childIndex, pid));
  }

  /** The spawn failed: close both ends. */
  void abandon(int[] pipe) {
    Libc.close(pipe[0]);
    Libc.close(pipe[1]);
  }

  /** Where a child's output goes, in words, for log lines such as the watchdog's. */
  String describe(int childIndex, int pid) {
    String tag = tag(childIndex, pid);
    return directory == null
        ? "the master's log (logger io.prefork.child, lines tagged " + tag + ")"
        : fileOf(childIndex) + " (lines tagged " + tag + ")";
  }

  private String tag(int childIndex, int pid) {
    if (threadsPerChild == 1) {
      return "[slot " + childIndex + " pid " + pid + "]";
    }
    int first = childIndex * threadsPerChild;
    return "[slots " + first + "-" + (first + threadsPerChild - 1) + " pid " + pid + "]";
  }

  private Path fileOf(int childIndex) {
    return directory.resolve("child-" + childIndex + ".log");
  }

  private void run() {
    byte[] buf = new byte[8192];
    while (!(closing && sources.isEmpty())) {
      Source[] polled = sources.values().toArray(new Source[0]);
      if (polled.length == 0) {
        idle(50); // close() wakes it
        continue;
      }
      byte[] pollfds = new byte[polled.length * 8];
      for (int i = 0; i < polled.length; i++) {
        putInt(pollfds, i * 8, polled[i].fd);
        pollfds[i * 8 + 4] = (byte) Libc.POLLIN;
      }
      // Short while closing: the master waits for this thread before it exits.
      int n;
      try {
        n = Libc.poll(pollfds, polled.length, closing ? 5 : 100);
      } catch (OsException e) {
        log.warn("reading the children's output: {}", e.getMessage()); // not expected: EBADF
        idle(50);
        continue;
      }
      if (n <= 0) {
        continue;
      }
      for (int i = 0; i < polled.length; i++) {
        short revents = (short) ((pollfds[i * 8 + 6] & 0xff) | (pollfds[i * 8 + 7] & 0xff) << 8);
        if (revents == 0) {
          continue;
        }
        Source s = polled[i];
        long got;
        try {
          got = Libc.read(s.fd, buf);
        } catch (OsException e) {
          got = -1;
        }
        if (got > 0) {
          consume(s, buf, (int) got);
        } else {
          // EOF (the child and everything it spawned are gone) or an error: flush and forget.
          if (s.length > 0) {
            emit(s);
          }
          synchronized (finished) {
            finished.put(s.pid, s.recent);
            finished.notifyAll();
          }
          sources.remove(s.fd);
          Libc.close(s.fd);
        }
      }
    }
    for (OutputStream out : files.values()) {
      try {
        out.close();
      } catch (IOException e) {
        // nothing to do
      }
    }
  }

  private void consume(Source s, byte[] buf, int n) {
    for (int i = 0; i < n; i++) {
      byte b = buf[i];
      if (b == '\n') {
        emit(s);
      } else if (b != '\r') {
        if (s.length == MAX_LINE) {
          emit(s);
        }
        s.line[s.length++] = b;
      }
    }
  }

  private void emit(Source s) {
    String text = new String(s.line, 0, s.length, StandardCharsets.UTF_8);
    s.length = 0;
    if (!text.isBlank()) {
      if (s.recent.size() == RECENT_LINES) {
        s.recent.removeFirst();
      }
      s.recent.addLast(text);
    }
    if (directory == null) {
      s.level = levelOf(text, s.level);
      log.atLevel(s.level).log("{} {}", s.tag, text);
      return;
    }
    try {
      OutputStream out = files.get(s.childIndex);
      if (out == null) {
        out =
            Files.newOutputStream(
                fileOf(s.childIndex), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        files.put(s.childIndex, out);
      }
      out.write((s.tag + " " + text + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      log.info("{} {} (could not write {}: {})", s.tag, text, fileOf(s.childIndex), e.toString());
    }
  }

  /**
   * The line that best says why a child died, for the master's error message: its last line that is
   * not a stack frame nor the JVM's generic farewell, or "" if it printed none. Waits up to {@code
   * waitMillis} for the child's output to reach end-of-file (it is reaped before its last lines are
   * read).
   */
  String lastWords(int pid, long waitMillis) {
    long deadline = System.nanoTime() + waitMillis * 1_000_000;
    synchronized (finished) {
      while (!finished.containsKey(pid)) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          return "";
        }
        try {
          finished.wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return "";
        }
      }
      Deque<String> lines = finished.get(pid);
      for (var it = lines.descendingIterator(); it.hasNext(); ) {
        String line = it.next().strip();
        if (!line.startsWith("at ")
            && !line.startsWith("...")
            && !line.startsWith("Error: Could not create the Java Virtual Machine")
            && !line.startsWith("Error: A fatal exception has occurred")) {
          return line;
        }
      }
      return "";
    }
  }

  /**
   * The level a child's line is relayed at: the one its own logger printed ("... WARN logger -
   * ..."), so a master logging at WARN still shows its children's warnings; a stack trace's lines
   * keep the level of the line they follow; anything else (plain stdout) is INFO.
   */
  static Level levelOf(String line, Level previous) {
    if (line.startsWith("\t") || line.startsWith("at ") || line.startsWith("Caused by: ")) {
      return previous;
    }
    if (line.startsWith("Exception in thread ") || line.startsWith("Error: ")) {
      return Level.ERROR; // an uncaught exception, or the java launcher refusing to start
    }
    Matcher m = LEVEL.matcher(line);
    if (m.find() && m.start() < 80) {
      return Level.valueOf(m.group(1).equals("WARNING") ? "WARN" : m.group(1));
    }
    return Level.INFO;
  }

  /** Stops once every child's pipe reached end-of-file, waiting at most a second for that. */
  @Override
  public void close() {
    synchronized (this) {
      closing = true;
      notifyAll(); // ends a wait between polls at once
    }
    try {
      thread.join(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) v;
    b[off + 1] = (byte) (v >>> 8);
    b[off + 2] = (byte) (v >>> 16);
    b[off + 3] = (byte) (v >>> 24);
  }

  /** Waits while there is nothing to poll, until {@link #close()} or {@code millis} pass. */
  private synchronized void idle(long millis) {
    if (closing) {
      return;
    }
    try {
      wait(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
