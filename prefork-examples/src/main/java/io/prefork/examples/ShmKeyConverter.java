package io.prefork.examples;

import io.prefork.shm.ShmKeys;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads {@code --shm-key} in hex ({@code 0x6905}) or decimal, as {@code ipcs} users write it. */
final class ShmKeyConverter implements ITypeConverter<Integer> {
  @Override
  public Integer convert(String value) {
    try {
      return ShmKeys.parse(value);
    } catch (IllegalArgumentException e) {
      // picocli shows a TypeConversionException's message as is: one line, a usage error.
      throw new TypeConversionException(e.getMessage());
    }
  }
}
