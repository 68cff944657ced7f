package io.prefork.core.internal.child;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.internal.os.Libc;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A listening channel for each worker thread, on real loopback sockets. */
@Timeout(30)
class AcceptChannelsTest {
  // Linux x86-64 system call numbers: accept(2) and accept4(2).
  private static final String ACCEPT = "43";
  private static final String ACCEPT4 = "288";
  private static final String ACCEPTOR = "act-acceptor";

  private ServerSocketChannel inherited;
  private InetSocketAddress address;
  private AcceptChannels channels;
  private final List<Socket> clients = new ArrayList<>();

  @BeforeEach
  void listen() throws IOException {
    inherited = ServerSocketChannel.open();
    inherited.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    address = (InetSocketAddress) inherited.getLocalAddress();
    channels = new AcceptChannels(inherited);
  }

  @AfterEach
  void close() throws IOException {
    channels.closeAll();
    for (Socket c : clients) {
      c.close();
    }
  }

  @Test
  void eachWorkerAcceptsOnItsOwnChannelOfTheSameSocket() throws Exception {
    ServerSocketChannel first = channels.forWorker();
    ServerSocketChannel second = channels.forWorker();
    // The test JVM has the children's --add-opens (the surefire argLine): without it the workers
    // would silently share the inherited channel, and this test says so.
    assertNotSame(inherited, first, "no own channel: is --add-opens java.base/sun.nio.ch missing?");
    assertNotSame(first, second);
    assertEquals(2, channels.ownChannels());
    assertEquals(0, channels.sharedWorkers());
    assertEquals(inherited.getLocalAddress(), first.getLocalAddress());
    assertTrue(first.isBlocking() && second.isBlocking());

    connect();
    try (SocketChannel a = first.accept()) {
      assertTrue(a.isConnected());
    }
    connect();
    try (SocketChannel b = second.accept()) {
      assertTrue(b.isConnected());
    }
  }

  @Test
  void everyWorkerWaitsInTheKernelAtOnceAndEachConnectionWakesOne() throws Exception {
    // On one shared channel only one thread is in accept(2); the others wait for the JDK's lock.
    int workers = 3;
    List<CompletableFuture<SocketChannel>> accepting = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      accepting.add(acceptInAnotherThread(channels.forWorker()));
    }
    BlockedThreads.await(ACCEPTOR, workers, ACCEPT, ACCEPT4);
    for (int i = 0; i < workers; i++) {
      connect();
    }
    for (CompletableFuture<SocketChannel> f : accepting) {
      try (SocketChannel accepted = f.get(10, TimeUnit.SECONDS)) {
        assertTrue(accepted.isConnected());
      }
    }
  }

  @Test
  void closeAllWakesEveryWaitingWorkerAndLeavesTheSocketToTheOthers() throws Exception {
    // The master's own descriptor of the socket: it keeps listening after the child lets go.
    int fd = Libc.fcntl(fdOf(inherited), Libc.F_DUPFD_CLOEXEC, 0);
    try {
      List<CompletableFuture<SocketChannel>> accepting = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        accepting.add(acceptInAnotherThread(channels.forWorker()));
      }
      BlockedThreads.await(ACCEPTOR, 2, ACCEPT, ACCEPT4);
      channels.closeAll();
      for (CompletableFuture<SocketChannel> f : accepting) {
        ExecutionException e =
            assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertInstanceOf(AsynchronousCloseException.class, e.getCause().getCause());
      }
      assertFalse(inherited.isOpen());
      connect(); // the kernel still completes the handshake: the socket listens on

      ServerSocketChannel late = channels.forWorker();
      assertSame(inherited, late, "a worker that starts after the close gets no new channel");
      assertThrows(ClosedChannelException.class, late::accept);
    } finally {
      Libc.close(fd);
    }
  }

  @Test
  void workersThatCannotHaveTheirOwnShareTheInheritedChannelAndAreCounted() throws Exception {
    inherited.configureBlocking(false); // a duplicate would share the mode: not ours to change
    assertSame(inherited, channels.forWorker());
    assertSame(inherited, channels.forWorker());
    assertEquals(0, channels.ownChannels());
    assertEquals(2, channels.sharedWorkers(), "each fallback is counted (and logged once)");

    channels.closeAll();
    channels.forWorker(); // after the close: no channel is wanted, nothing is counted
    assertEquals(2, channels.sharedWorkers());
  }

  private void connect() throws IOException {
    Socket s = new Socket();
    clients.add(s);
    s.connect(address, 5_000);
  }

  private static int fdOf(ServerSocketChannel c) throws Exception {
    return (int) Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal").invoke(c);
  }

  private static CompletableFuture<SocketChannel> acceptInAnotherThread(ServerSocketChannel c) {
    return BlockedThreads.inThread(ACCEPTOR, c::accept);
  }
}
