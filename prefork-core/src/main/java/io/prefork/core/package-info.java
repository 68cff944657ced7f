/**
 * The public API of prefork: {@link io.prefork.core.PreforkServer} and its builder, the {@link
 * io.prefork.core.ChildJob} an application writes, the {@link io.prefork.core.Connection} and
 * {@link io.prefork.core.ChildContext} it is given, {@link io.prefork.core.ControlHandle} for
 * controllers, and the status types. Applications use only this package; everything under {@code
 * io.prefork.core.internal} may change in any release.
 */
package io.prefork.core;
