package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

import io.prefork.core.internal.ops.PreforkServerJmx;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.SlotState;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import javax.management.JMX;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The MXBean end to end: the platform MBean server, a real pool, commands through JMX. */
class PreforkServerJmxTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  private final MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();

  @Test
  void attributesMatchTheStatusAndOperationsCommandTheMaster() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class));
    ObjectName name =
        new ObjectName("io.prefork:type=PreforkServer,shmKey=" + ShmKeys.toHex(server.shmKey()));
    assertTrue(mbeans.isRegistered(name), name + " registered");
    PreforkServerMXBean proxy = JMX.newMXBeanProxy(mbeans, name, PreforkServerMXBean.class);

    MBeanInfo info = mbeans.getMBeanInfo(name);
    assertEquals(
        Set.of(
            "MasterPid",
            "Uptime",
            "Generation",
            "State",
            "ListenAddress",
            "ListenPort",
            "ListenQueue",
            "ListenBacklog",
            "IdleWorkers",
            "BusyWorkers",
            "ParkedWorkers",
            "Children",
            "MaxChildren",
            "MinChildren",
            "ThreadsPerChild",
            "TotalCalls",
            "CallsPerSecond",
            "Spawns",
            "Crashes",
            "Restarts"),
        Arrays.stream(info.getAttributes()).map(a -> a.getName()).collect(Collectors.toSet()));
    assertEquals(
        Set.of("restart", "waitDown", "forceDown"),
        Arrays.stream(info.getOperations()).map(o -> o.getName()).collect(Collectors.toSet()));

    waitUntil(() -> server.status().count(SlotState.IDLE) == 2, "both children idle");
    ServerStatus before = server.status();
    // The platform MBean server, attribute by attribute (open types: Integer, Long, String...).
    assertEquals(before.masterPid(), mbeans.getAttribute(name, "MasterPid"));
    assertEquals(before.generation(), mbeans.getAttribute(name, "Generation"));
    assertEquals(before.masterState().name(), mbeans.getAttribute(name, "State"));
    assertEquals("RUNNING", mbeans.getAttribute(name, "State"));
    assertEquals(before.listenAddress(), mbeans.getAttribute(name, "ListenAddress"));
    assertEquals(server.port(), mbeans.getAttribute(name, "ListenPort"));
    assertEquals(before.listenQueue(), mbeans.getAttribute(name, "ListenQueue"));
    assertEquals(before.listenBacklog(), mbeans.getAttribute(name, "ListenBacklog"));
    assertEquals(2, mbeans.getAttribute(name, "IdleWorkers"));
    assertEquals(0, mbeans.getAttribute(name, "BusyWorkers"));
    assertEquals((int) before.children(), mbeans.getAttribute(name, "Children"));
    assertEquals(before.maxChildren(), mbeans.getAttribute(name, "MaxChildren"));
    assertEquals(before.minChildren(), mbeans.getAttribute(name, "MinChildren"));
    assertEquals(before.threadsPerChild(), mbeans.getAttribute(name, "ThreadsPerChild"));
    assertEquals(before.totalCalls(), mbeans.getAttribute(name, "TotalCalls"));
    assertEquals(before.spawns(), mbeans.getAttribute(name, "Spawns"));
    assertEquals(before.crashes(), mbeans.getAttribute(name, "Crashes"));
    assertEquals(before.restarts(), mbeans.getAttribute(name, "Restarts"));
    assertTrue((Double) mbeans.getAttribute(name, "CallsPerSecond") >= 0);
    long uptime = (Long) mbeans.getAttribute(name, "Uptime");
    assertTrue(uptime >= before.uptimeMillis(), uptime + " >= " + before.uptimeMillis());
    assertTrue(uptime <= server.status().uptimeMillis());

    // The same through a typed proxy.
    assertEquals((int) ProcessHandle.current().pid(), proxy.getMasterPid());
    assertEquals(1, proxy.getGeneration());
    assertEquals("127.0.0.1", proxy.getListenAddress());
    assertEquals(server.port(), proxy.getListenPort());
    assertEquals(2, proxy.getChildren());
    assertEquals(2, proxy.getIdleWorkers());
    assertEquals(2, proxy.getMinChildren());
    assertEquals(3, proxy.getMaxChildren());
    assertEquals(1, proxy.getThreadsPerChild());
    assertEquals(2, proxy.getSpawns());
    assertEquals(0, proxy.getCrashes());
    assertEquals(0, proxy.getRestarts());
    assertEquals(0, proxy.getTotalCalls());

    // A request counted shows up.
    assertEquals("pong", Client.ask(server.port(), "ping"));
    waitUntil(() -> proxy.getTotalCalls() == 1, "the call in TotalCalls");
    assertEquals(server.status().totalCalls(), mbeans.getAttribute(name, "TotalCalls"));

    // restart() through JMX: every worker of generation 2.
    mbeans.invoke(name, "restart", null, null);
    waitUntil(
        () -> {
          ServerStatus s = server.status();
          return s.restarts() == 1
              && s.workers().size() == 2
              && s.workers().stream()
                  .allMatch(w -> w.generation() == 2 && w.state() == SlotState.IDLE);
        },
        "a restart completed with both workers of generation 2");
    assertEquals(2, proxy.getGeneration());
    assertEquals(1, proxy.getRestarts());
    assertEquals("RUNNING", proxy.getState());
    assertEquals("2", Client.ask(server.port(), "gen"));

    // waitDown() through JMX: the server stops and the bean goes with it.
    proxy.waitDown();
    assertTrue(server.awaitTermination(Duration.ofSeconds(20)), "stopped after waitDown");
    assertFalse(server.isRunning());
    assertFalse(mbeans.isRegistered(name), "unregistered once the master stopped");
  }

  @Test
  void forceDownThroughJmxStopsTheServer() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class));
    ObjectName name = PreforkServerJmx.objectName(server.shmKey());
    JMX.newMXBeanProxy(mbeans, name, PreforkServerMXBean.class).forceDown();
    assertTrue(server.awaitTermination(Duration.ofSeconds(20)), "stopped after forceDown");
    assertFalse(mbeans.isRegistered(name));
  }

  @Test
  void withJmxOffNothingIsRegistered() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class).jmx(false));
    assertFalse(mbeans.isRegistered(PreforkServerJmx.objectName(server.shmKey())));
    assertTrue(
        mbeans.queryNames(new ObjectName("io.prefork:type=PreforkServer,*"), null).stream()
            .noneMatch(n -> n.getKeyProperty("shmKey").equals(ShmKeys.toHex(server.shmKey()))));
    assertEquals("pong", Client.ask(server.port(), "ping"));
  }
}
