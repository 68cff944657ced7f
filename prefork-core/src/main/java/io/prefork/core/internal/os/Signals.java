package io.prefork.core.internal.os;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * The JDK's signal handling ({@code sun.misc.Signal} of the jdk.unsupported module, the supported
 * way to handle POSIX signals in Java), reached by reflection so that nothing in the build refers
 * to an internal API at compile time (javac and javadoc warn about every such use).
 */
public final class Signals {
  private static final Class<?> SIGNAL;
  private static final Class<?> HANDLER;
  private static final Method HANDLE;
  private static final Object SIG_IGN;

  static {
    try {
      SIGNAL = Class.forName("sun.misc.Signal");
      HANDLER = Class.forName("sun.misc.SignalHandler");
      HANDLE = SIGNAL.getMethod("handle", SIGNAL, HANDLER);
      SIG_IGN = HANDLER.getField("SIG_IGN").get(null);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private Signals() {}

  /**
   * Runs {@code action} (on a JDK thread) whenever the signal arrives.
   *
   * @param name the signal's name without "SIG", e.g. {@code "TERM"}
   * @param action what to do
   * @return true if the signal was ignored before (a background job, nohup)
   * @throws IllegalArgumentException if this JVM does not let applications handle the signal
   */
  public static boolean handle(String name, Runnable action) {
    return install(name, handler(name, action)) == SIG_IGN;
  }

  /**
   * A handler that runs {@code action}, to install with {@link #install}: an opaque {@code
   * sun.misc.SignalHandler}.
   */
  public static Object handler(String name, Runnable action) {
    return Proxy.newProxyInstance(
        Signals.class.getClassLoader(),
        new Class<?>[] {HANDLER},
        (proxy, method, args) ->
            switch (method.getName()) {
              case "handle" -> {
                action.run();
                yield null;
              }
              case "hashCode" -> System.identityHashCode(proxy);
              case "equals" -> proxy == args[0];
              case "toString" -> "prefork handler of SIG" + name;
              default -> null;
            });
  }

  /** {@return whether {@code handler} is the JVM's "ignore" disposition} */
  public static boolean isIgnore(Object handler) {
    return handler == SIG_IGN;
  }

  /** Ignores the signal from now on. */
  public static void ignore(String name) {
    install(name, SIG_IGN);
  }

  /**
   * Installs {@code handler} (one from {@link #handler}, or one {@code install} returned) for the
   * signal.
   *
   * @return the handler it replaces, to give back to {@code install} later
   * @throws IllegalArgumentException if this JVM does not let applications handle the signal
   */
  public static Object install(String name, Object handler) {
    try {
      Object signal = SIGNAL.getConstructor(String.class).newInstance(name);
      return HANDLE.invoke(null, signal, handler);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot handle SIG" + name + ": " + e, e);
    }
  }
}
