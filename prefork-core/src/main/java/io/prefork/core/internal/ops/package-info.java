/**
 * Integrations for running the master: systemd notification, signal handling, daemon mode, the pid
 * file, JMX, the metrics endpoint. Each observes the master through {@code
 * internal.master.ServerEvents} or acts before it starts; none is used by a child.
 */
package io.prefork.core.internal.ops;
