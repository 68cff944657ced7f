package io.prefork.core.internal.child;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.Channel;

/**
 * The descriptor of a JDK socket channel ({@code sun.nio.ch.SelChImpl.getFD()} and {@code
 * getFDVal()}, reached through {@code --add-opens java.base/sun.nio.ch}, which the children are
 * given).
 */
final class ChannelFds {
  /** {@code getFDVal()} typed {@code (Channel)int}, or null if this JDK does not let us have it. */
  private static final MethodHandle GET_FD_VAL = find("getFDVal", MethodType.methodType(int.class));

  /** {@code getFD()} typed {@code (Channel)FileDescriptor}, or null. */
  private static final MethodHandle GET_FD =
      find("getFD", MethodType.methodType(FileDescriptor.class));

  private ChannelFds() {}

  /**
   * {@return the channel's descriptor number, or -1 if unknown (no access, or a channel of another
   * SelectorProvider)}
   */
  static int of(Channel channel) {
    if (GET_FD_VAL == null) {
      return -1;
    }
    try {
      return (int) GET_FD_VAL.invokeExact(channel);
    } catch (ClassCastException e) {
      return -1; // not one of the JDK's own channels
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new AssertionError("getFDVal() declares no checked exception", e);
    }
  }

  /**
   * {@return the channel's {@link FileDescriptor}, or null if unknown (no access, or a channel of
   * another SelectorProvider)}
   */
  static FileDescriptor descriptor(Channel channel) {
    if (GET_FD == null) {
      return null;
    }
    try {
      return (FileDescriptor) GET_FD.invokeExact(channel);
    } catch (ClassCastException e) {
      return null; // not one of the JDK's own channels
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new AssertionError("getFD() declares no checked exception", e);
    }
  }

  private static MethodHandle find(String name, MethodType type) {
    try {
      Class<?> selectable = Class.forName("sun.nio.ch.SelChImpl");
      return MethodHandles.lookup()
          .findVirtual(selectable, name, type)
          .asType(type.insertParameterTypes(0, Channel.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null; // not opened to us, or renamed in a later JDK
    }
  }
}
