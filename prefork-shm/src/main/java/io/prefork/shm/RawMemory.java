package io.prefork.shm;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;

/**
 * Plain, ordered and volatile access to an absolute native address through {@code sun.misc.Unsafe}:
 * what a child needs of its table, without chronicle-bytes. Loading chronicle (its {@code Jvm}
 * class initialisation, logging and management beans) cost a child about 80-170 ms and 16 MB before
 * its first accept; the child's path (validating the header, the worker slots' transitions) only
 * needs these few reads and stores (see docs/performance.md).
 *
 * <p>Unsafe is reached through method handles found by reflection, so nothing here names {@code
 * sun.misc} at compile time (no proprietary-API warnings); constant handles called with {@code
 * invokeExact} compile to the same single load or store.
 */
final class RawMemory {
  private static final MethodHandle GET_INT = handle("getInt", int.class, false);
  private static final MethodHandle GET_LONG = handle("getLong", long.class, false);
  private static final MethodHandle GET_INT_VOLATILE = handle("getIntVolatile", int.class, true);
  private static final MethodHandle GET_LONG_VOLATILE = handle("getLongVolatile", long.class, true);
  private static final MethodHandle PUT_ORDERED_INT = putHandle("putOrderedInt", int.class);
  private static final MethodHandle PUT_ORDERED_LONG = putHandle("putOrderedLong", long.class);

  private RawMemory() {}

  static int readInt(long address) {
    try {
      return (int) GET_INT.invokeExact(address);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  static long readLong(long address) {
    try {
      return (long) GET_LONG.invokeExact(address);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  static int readVolatileInt(long address) {
    try {
      return (int) GET_INT_VOLATILE.invokeExact(address);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  static long readVolatileLong(long address) {
    try {
      return (long) GET_LONG_VOLATILE.invokeExact(address);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** A release store: earlier stores are visible before this one. */
  static void writeOrderedInt(long address, int value) {
    try {
      PUT_ORDERED_INT.invokeExact(address, value);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** A release store: earlier stores are visible before this one. */
  static void writeOrderedLong(long address, long value) {
    try {
      PUT_ORDERED_LONG.invokeExact(address, value);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * A compare-and-swap of the long at this address (a full fence), as any number of processes may
   * race on one word; its handle is made on first use.
   */
  static boolean compareAndSwapLong(long address, long expected, long update) {
    try {
      return (boolean) Cas.LONG.invokeExact(address, expected, update);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code unsafe.compareAndSwapLong(null, address, expected, update)}, made on first use. */
  private static final class Cas {
    static final MethodHandle LONG = casHandle();

    private static MethodHandle casHandle() {
      try {
        Object unsafe = theUnsafe();
        MethodHandle h =
            MethodHandles.lookup()
                .findVirtual(
                    unsafe.getClass(),
                    "compareAndSwapLong",
                    MethodType.methodType(
                        boolean.class, Object.class, long.class, long.class, long.class));
        return MethodHandles.insertArguments(h.bindTo(unsafe), 0, (Object) null);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException) {
      throw (RuntimeException) t;
    }
    if (t instanceof Error) {
      throw (Error) t;
    }
    throw new IllegalStateException(t);
  }

  /** {@code unsafe.name(long)} or, for the volatile reads, {@code unsafe.name(null, long)}. */
  private static MethodHandle handle(String name, Class<?> type, boolean objectAndOffset) {
    try {
      Object unsafe = theUnsafe();
      MethodHandle h =
          objectAndOffset
              ? MethodHandles.lookup()
                  .findVirtual(
                      unsafe.getClass(),
                      name,
                      MethodType.methodType(type, Object.class, long.class))
              : MethodHandles.lookup()
                  .findVirtual(unsafe.getClass(), name, MethodType.methodType(type, long.class));
      h = h.bindTo(unsafe);
      return objectAndOffset ? MethodHandles.insertArguments(h, 0, (Object) null) : h;
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** {@code unsafe.name(null, long, value)}. */
  private static MethodHandle putHandle(String name, Class<?> type) {
    try {
      Object unsafe = theUnsafe();
      MethodHandle h =
          MethodHandles.lookup()
              .findVirtual(
                  unsafe.getClass(),
                  name,
                  MethodType.methodType(void.class, Object.class, long.class, type));
      return MethodHandles.insertArguments(h.bindTo(unsafe), 0, (Object) null);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static Object theUnsafe() throws ReflectiveOperationException {
    Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
    f.setAccessible(true);
    return f.get(null);
  }
}
