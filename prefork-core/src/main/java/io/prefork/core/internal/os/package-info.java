/**
 * The operating system binding: libc through jnr-ffi (sockets, pipes, poll, posix_spawn, signals,
 * waitpid), each errno turned into an exception in one place. Uses nothing else of prefork.
 */
package io.prefork.core.internal.os;
