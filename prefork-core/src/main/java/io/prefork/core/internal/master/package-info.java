/**
 * The master's internals. {@code Supervisor} is the master thread; it applies small policies, each
 * with its own monotonic clock and unit tests ({@code PoolPolicy}, {@code CrashBackoff}, {@code
 * Watchdog}, {@code ExitDeadline}, {@code Recycling}, {@code Replacements}, {@code
 * ExitClassifier}), to the pool's mechanics ({@code ChildPool}: spawn, ask to exit, kill, reap),
 * and publishes to the status table. Also here: the listening socket, the children's launch ({@code
 * ChildLauncher}, JVM presets, class-data archive) and their output. May use {@code internal.os},
 * {@code internal.protocol}, {@code internal.ops} (signals only) and prefork-shm; used by the API
 * package.
 */
package io.prefork.core.internal.master;
