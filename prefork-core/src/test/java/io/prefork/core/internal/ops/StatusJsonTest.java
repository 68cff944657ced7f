package io.prefork.core.internal.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StatusJsonTest {
  @Test
  void escapesJsonStrings() {
    StringBuilder b = new StringBuilder();
    StatusJson.string(b, "a\"b\\c\nd\u0001\t\r");
    assertEquals("\"a\\\"b\\\\c\\nd\\u0001\\t\\r\"", b.toString());
  }
}
