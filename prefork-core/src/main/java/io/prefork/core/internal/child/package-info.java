/**
 * A child JVM's internals: the runtime started by {@code ChildMain}, its worker threads, the
 * accepted connection with its descriptor streams and read deadline. May use the API types a job
 * sees, {@code internal.protocol} and prefork-shm's child table; never the master, the ops
 * integrations or jnr-posix (a test holds this): a child must start fast and stay small.
 */
package io.prefork.core.internal.child;
