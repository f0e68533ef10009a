package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The token path's JSON strings read back as the text they carry, and as the general encoder writes them. */
class SseTextTest {

  @Test
  void tokensEncodeAsTheGeneralEncoderDoesAndDecodeBackUnchanged() {
    StringBuilder controls = new StringBuilder();
    for (char c = 0; c < 0x20; c++) {
      controls.append(c);
    }
    List<String> texts = List.of("", "a", " the", "\n\n ", "say \"hi\"", "C:\\path\\", "tab\there", controls.toString(),
        "\u007f\u0080", "caf\u00e9", "\u2028\u2029", "\ud83d\ude00 emoji", "</script>", "half \ud83d", "{\"json\":[1]}");
    for (String text : texts) {
      StringBuilder out = new StringBuilder("{\"text\":");
      SseText.appendJsonString(out, text);
      out.append('}');
      assertEquals(text, new JsonObject(out.toString()).getString("text"), "round trip of " + Json.encode(text));
      StringBuilder alone = new StringBuilder();
      SseText.appendJsonString(alone, text);
      if (!text.equals("half \ud83d")) { // a lone surrogate: Jackson writes it raw too, UTF-8 then replaces it either way
        assertEquals(Json.encode(text), alone.toString(), "same bytes as Json.encode for " + Json.encode(text));
      }
    }
  }
}
