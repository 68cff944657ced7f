package io.prefork.core.internal.ops;

import io.prefork.core.PreforkServer;
import io.prefork.core.PreforkServerMXBean;
import io.prefork.core.ServerStatus;
import io.prefork.core.internal.master.ServerEvents;
import io.prefork.shm.Command;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.SlotState;
import java.lang.management.ManagementFactory;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link PreforkServerMXBean} of one server: registered in the platform MBean server once the
 * server is ready ({@link #register()}), unregistered when the master stops (an observer of it).
 *
 * <p>Reads go through {@link PreforkServer#status()}. The master removes and detaches the table
 * right after telling its observers it stopped, so every read holds a read lock that {@link
 * #stopped()} waits for: no read touches the table once it may be gone.
 */
public final class PreforkServerJmx implements PreforkServerMXBean, ServerEvents {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  private final PreforkServer server;
  private final Consumer<Command> commands;
  private final ObjectName name;
  private final MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
  private final ReentrantReadWriteLock guard = new ReentrantReadWriteLock();

  // Guarded by guard's write lock (read under its read lock).
  private boolean registered;
  private boolean stopped;

  public PreforkServerJmx(PreforkServer server, Consumer<Command> commands, int shmKey) {
    this.commands = commands;
    this.server = server;
    this.name = objectName(shmKey);
  }

  /** {@code io.prefork:type=PreforkServer,shmKey=0x00006905}. */
  public static ObjectName objectName(int shmKey) {
    try {
      return new ObjectName("io.prefork:type=PreforkServer,shmKey=" + ShmKeys.toHex(shmKey));
    } catch (MalformedObjectNameException e) {
      throw new IllegalStateException("cannot happen: a hex key is a valid ObjectName value", e);
    }
  }

  /**
   * Registers the bean, unless the master has already stopped. A failure is logged, not thrown: the
   * server serves without its JMX view rather than not at all.
   */
  public void register() {
    guard.writeLock().lock();
    try {
      if (stopped || registered) {
        return;
      }
      mbeans.registerMBean(this, name);
      registered = true;
    } catch (JMException | RuntimeException e) {
      log.warn(
          "cannot register the JMX bean {}: {}; the server runs without it", name, e.toString());
    } finally {
      guard.writeLock().unlock();
    }
  }

  @Override
  public void stopped() {
    guard.writeLock().lock();
    try {
      stopped = true;
      if (registered) {
        registered = false;
        mbeans.unregisterMBean(name);
      }
    } catch (JMException | RuntimeException e) {
      log.warn("cannot unregister the JMX bean {}: {}", name, e.toString());
    } finally {
      guard.writeLock().unlock();
    }
  }

  private ServerStatus status() {
    guard.readLock().lock();
    try {
      if (stopped) {
        throw new IllegalStateException("the prefork server " + name + " has stopped");
      }
      return server.status();
    } finally {
      guard.readLock().unlock();
    }
  }

  @Override
  public int getMasterPid() {
    return status().masterPid();
  }

  @Override
  public long getUptime() {
    return status().uptimeMillis();
  }

  @Override
  public long getGeneration() {
    return status().generation();
  }

  @Override
  public String getState() {
    return status().masterState().name();
  }

  @Override
  public String getListenAddress() {
    return status().listenAddress();
  }

  @Override
  public int getListenPort() {
    return status().listenPort();
  }

  @Override
  public int getListenQueue() {
    return status().listenQueue();
  }

  @Override
  public int getListenBacklog() {
    return status().listenBacklog();
  }

  @Override
  public int getIdleWorkers() {
    return (int) status().count(SlotState.IDLE);
  }

  @Override
  public int getBusyWorkers() {
    return (int) status().count(SlotState.BUSY);
  }

  @Override
  public int getParkedWorkers() {
    return (int) status().count(SlotState.PARKED);
  }

  @Override
  public int getChildren() {
    return (int) status().children();
  }

  @Override
  public int getMaxChildren() {
    return status().maxChildren();
  }

  @Override
  public int getMinChildren() {
    return status().minChildren();
  }

  @Override
  public int getThreadsPerChild() {
    return status().threadsPerChild();
  }

  @Override
  public long getTotalCalls() {
    return status().totalCalls();
  }

  @Override
  public double getCallsPerSecond() {
    return status().callsPerSecond();
  }

  @Override
  public long getSpawns() {
    return status().spawns();
  }

  @Override
  public long getCrashes() {
    return status().crashes();
  }

  @Override
  public long getRestarts() {
    return status().restarts();
  }

  @Override
  public void restart() {
    log.info("restart requested over JMX");
    commands.accept(Command.RESTART);
  }

  @Override
  public void waitDown() {
    log.info("wait-down requested over JMX");
    commands.accept(Command.WAIT_DOWN);
  }

  @Override
  public void forceDown() {
    log.info("force-down requested over JMX");
    commands.accept(Command.FORCE_DOWN);
  }

  @Override
  public String toString() {
    return "PreforkServerJmx[" + name + "]";
  }
}
