package io.prefork.core.internal.child;

import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.ProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The listening socket once for each worker thread: a {@link ServerSocketChannel} of its own on a
 * duplicate of the inherited descriptor.
 *
 * <p>Why: the JDK's channel holds a lock across a blocking {@code accept()}, so of a child's
 * threads one waits in the kernel and the others queue on that lock, and every connection pays for
 * handing the lock on (a futex wake and a thread switch: 2.3 futex calls per connection under hello
 * at c=200, beside the 4 calls the connection itself needs). With a channel each, every thread
 * waits in {@code accept(2)} itself, as the C original's processes do, and the kernel wakes one of
 * them per connection. The duplicates share the one socket: its queue, its options, its blocking
 * mode; closing one closes only that descriptor.
 *
 * <p>A duplicate's channel is made by the JDK's own constructor, the one {@link
 * System#inheritedChannel()} uses, reached through {@code --add-opens java.base/sun.nio.ch}, which
 * the children are given. Where it cannot be reached (another JDK, or no such option), or a
 * descriptor cannot be had, workers share the inherited channel, as they did before, and the child
 * says so once at INFO.
 */
final class AcceptChannels {
  /** {@code sun.nio.ch.ServerSocketChannelImpl}, or null. */
  private static final Class<?> IMPL;

  /** {@code new ServerSocketChannelImpl(provider, family, fd, bound)}, or null. */
  private static final MethodHandle NEW_CHANNEL;

  /** The inherited channel's {@code family} field, or null. */
  private static final MethodHandle FAMILY;

  /** {@code IOUtil.newFD(int)}, or null. */
  private static final MethodHandle NEW_FD;

  /** Why the handles could not be had, or null. */
  private static final String UNREACHABLE;

  static {
    Class<?> implClass = null;
    MethodHandle newChannel = null;
    MethodHandle family = null;
    MethodHandle newFd = null;
    String unreachable = null;
    try {
      Class<?> impl = Class.forName("sun.nio.ch.ServerSocketChannelImpl");
      implClass = impl;
      MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(impl, MethodHandles.lookup());
      newChannel =
          lookup
              .findConstructor(
                  impl,
                  MethodType.methodType(
                      void.class,
                      SelectorProvider.class,
                      ProtocolFamily.class,
                      FileDescriptor.class,
                      boolean.class))
              .asType(
                  MethodType.methodType(
                      ServerSocketChannel.class,
                      SelectorProvider.class,
                      ProtocolFamily.class,
                      FileDescriptor.class,
                      boolean.class));
      family =
          lookup
              .findGetter(impl, "family", ProtocolFamily.class)
              .asType(MethodType.methodType(ProtocolFamily.class, ServerSocketChannel.class));
      newFd =
          lookup.findStatic(
              Class.forName("sun.nio.ch.IOUtil"),
              "newFD",
              MethodType.methodType(FileDescriptor.class, int.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      newChannel = null; // not opened to us, or changed in a later JDK: share the channel
      unreachable = e.toString();
    }
    UNREACHABLE = unreachable;
    IMPL = newChannel == null ? null : implClass;
    NEW_CHANNEL = newChannel;
    FAMILY = family;
    NEW_FD = newFd;
  }

  private final ServerSocketChannel inherited;
  private final List<ServerSocketChannel> made = new ArrayList<>();
  private boolean closed;
  private int sharedWorkers;

  /**
   * @param inherited the child's listening channel, in blocking mode
   */
  AcceptChannels(ServerSocketChannel inherited) {
    this.inherited = inherited;
  }

  /**
   * {@return a channel for one worker thread to accept on: its own, or the inherited one if no
   * duplicate can be made or the channels were closed (then accepting on it fails at once)}
   */
  synchronized ServerSocketChannel forWorker() {
    if (closed) {
      return inherited;
    }
    if (NEW_CHANNEL == null) {
      return shared(
          "the JDK's channel constructor is not reachable (not opened by --add-opens"
              + " java.base/sun.nio.ch=ALL-UNNAMED, or this JDK differs): "
              + UNREACHABLE);
    }
    if (!IMPL.isInstance(inherited)) {
      return shared("the listening channel is a " + inherited.getClass().getName());
    }
    if (!(inherited.isOpen() && inherited.isBlocking())) {
      return shared("the listening channel is closed or non-blocking");
    }
    int listening = ChannelFds.of(inherited);
    if (listening < 0) {
      return shared("the listening channel's descriptor is unknown");
    }
    int dup;
    try {
      dup = Libc.fcntl(listening, Libc.F_DUPFD_CLOEXEC, 0);
    } catch (OsException e) {
      return shared(e.getMessage()); // out of descriptors: share, rather than not serve
    }
    try {
      ProtocolFamily family = (ProtocolFamily) FAMILY.invokeExact(inherited);
      FileDescriptor fd = (FileDescriptor) NEW_FD.invokeExact(dup);
      ServerSocketChannel own =
          (ServerSocketChannel) NEW_CHANNEL.invokeExact(inherited.provider(), family, fd, true);
      made.add(own);
      return own;
    } catch (Throwable e) {
      Libc.close(dup);
      return shared(e.toString());
    }
  }

  /**
   * The inherited channel, for a worker that could not have its own; the first time, one INFO line
   * says why: the child serves, but its threads queue on the channel's lock (slower under many
   * short connections), and an operator should be able to see that.
   */
  private ServerSocketChannel shared(String why) {
    sharedWorkers++;
    if (sharedWorkers == 1) {
      LoggerFactory.getLogger("io.prefork.child")
          .info(
              "worker threads share one listening channel (each waits for the others' accept):"
                  + " {}",
              why);
    }
    return inherited;
  }

  /** {@return how many workers were given the shared channel because theirs could not be made} */
  synchronized int sharedWorkers() {
    return sharedWorkers;
  }

  /** {@return how many channels of their own the workers were given} */
  synchronized int ownChannels() {
    return made.size();
  }

  /**
   * Closes every channel: a worker blocked in {@code accept()} on one wakes with {@link
   * java.nio.channels.AsynchronousCloseException}. Only this process's descriptors close; the
   * socket stays open in the master and the siblings. Idempotent.
   */
  void closeAll() {
    List<ServerSocketChannel> toClose;
    synchronized (this) {
      closed = true;
      toClose = new ArrayList<>(made);
    }
    toClose.add(inherited);
    for (ServerSocketChannel c : toClose) {
      try {
        c.close();
      } catch (IOException e) {
        // nothing left to do
      }
    }
  }
}
