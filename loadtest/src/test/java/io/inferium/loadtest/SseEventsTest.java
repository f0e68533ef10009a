package io.inferium.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseEventsTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void eventsComeOutWhenTheirBlankLineArrives() {
    SseEvents sse = new SseEvents();
    assertEquals(List.of(), sse.feed(utf8("data: {\"a\":")));
    assertEquals(List.of(), sse.feed(utf8("1}\n")));
    assertEquals(List.of("{\"a\":1}"), sse.feed(utf8("\ndata: [DO")));
    assertEquals(List.of("[DONE]"), sse.feed(utf8("NE]\n\n")));
    assertEquals(0, sse.buffered());
  }

  @Test
  void severalEventsInOneReadKeepTheirOrder() {
    SseEvents sse = new SseEvents();
    assertEquals(List.of("1", "2", "3"), sse.feed(utf8("data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4")));
    assertEquals(List.of("4"), sse.feed(utf8("\n\n")));
  }

  @Test
  void crlfMultiLineDataCommentsAndOtherFields() {
    SseEvents sse = new SseEvents();
    assertEquals(List.of("a\nb", "c"), sse.feed(utf8(": keep-alive\r\n\r\nevent: x\r\ndata: a\r\ndata:b\r\n\r\nid: 7\ndata: c\n\n")));
  }

  @Test
  void aCharacterSplitAcrossReadsIsDecodedWhole() {
    byte[] bytes = utf8("data: {\"text\":\"é€\"}\n\n");
    SseEvents sse = new SseEvents();
    List<String> out = new ArrayList<>();
    for (byte b : bytes) {
      out.addAll(sse.feed(new byte[] {b}));
    }
    assertEquals(List.of("{\"text\":\"é€\"}"), out);
  }

  @Test
  void anEventLargerThanTheInitialBufferSurvives() {
    String big = "x".repeat(10_000);
    assertEquals(List.of(big), new SseEvents().feed(utf8("data: " + big + "\n\n")));
  }

  @Test
  void textOfReadsTheFirstChoicesTextOrNothing() {
    assertEquals("hi", StreamingClients.textOf(new JsonObject(
        "{\"choices\":[{\"index\":0,\"text\":\"hi\",\"finish_reason\":null}]}")));
    assertEquals("", StreamingClients.textOf(new JsonObject("{\"choices\":[],\"usage\":{\"completion_tokens\":3}}")));
    assertEquals("", StreamingClients.textOf(new JsonObject("{\"choices\":[{\"index\":0,\"text\":null}]}")));
    assertEquals("", StreamingClients.textOf(new JsonObject("{\"error\":{\"code\":\"model_error\"}}")));
  }
}
