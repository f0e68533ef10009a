package io.inferium.functions.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hubspot.jinjava.Jinjava;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile chat templates end in a clear {@link ChatTemplate.Failure}; real ones render as Jinja2 renders them. */
class ChatTemplateSandboxTest {

  private static final List<ChatMessage> HELLO = List.of(new ChatMessage("user", "Hello"));
  /** A file on the worker's class path (the node's logging service entry; the node holds no migrations to leak). */
  private static final String SERVER_FILE = "META-INF/services/ch.qos.logback.classic.spi.Configurator";
  private static final String SERVER_TEXT = "NodeLogging";

  private static ChatTemplate.Failure fails(String source) {
    return fails(ChatTemplate.of(source));
  }

  private static ChatTemplate.Failure fails(ChatTemplate template) {
    ChatTemplate.Failure f = assertThrows(ChatTemplate.Failure.class, () -> template.render(HELLO, true));
    assertTrue(f.getMessage().startsWith("chat template failed: "), f.getMessage());
    assertFalse(f.refused());
    return f;
  }

  @Test
  void includeOfAServerFileFailsWithoutItsContent() {
    // The attack is real: Jinjava's defaults read the file from the classpath.
    String leaked = new Jinjava().renderForResult("{% include '" + SERVER_FILE + "' %}", Map.of()).getOutput();
    assertTrue(leaked.contains(SERVER_TEXT), "the unsandboxed engine should have read the file");

    for (String source : List.of("{% include '" + SERVER_FILE + "' %}",
        "{% import '" + SERVER_FILE + "' as m %}{{ m }}",
        "{% from '" + SERVER_FILE + "' import x %}{{ x }}",
        "{% extends '" + SERVER_FILE + "' %}",
        "{{ '" + SERVER_FILE + "'|render }}",
        "{% include '/etc/passwd' %}")) {
      ChatTemplate.Failure f = fails(source);
      assertFalse(f.getMessage().contains(SERVER_TEXT), f.getMessage());
      assertFalse(f.getMessage().contains("root:"), f.getMessage());
      assertFalse(f.getMessage().contains(System.getProperty("user.dir")), f.getMessage());
      assertTrue(f.getMessage().contains("not allowed in a chat template"), f.getMessage());
    }
  }

  @Test
  void javaMethodsAreRefused() {
    long start = System.nanoTime();
    ChatTemplate.Failure f = fails("{{ 'a'.repeat(100000000) }}");
    assertTrue(f.getMessage().contains("calling 'repeat' on a string is not allowed"), f.getMessage());
    assertTrue(System.nanoTime() - start < 5_000_000_000L);
    for (String source : List.of("{{ messages.getClass() }}", "{{ messages[0].put('role', 'x') }}",
        "{{ messages.add(1) }}", "{{ 'x'.getBytes() }}", "{% for m in messages %}{{ loop.getClass() }}{% endfor %}",
        "{{ ____int3rpr3t3r____.getContext() }}", "{{ ''.concat('a') }}", "{% set ns = namespace(a=1) %}{{ ns.clear() }}")) {
      fails(source);
    }
    // Jinjava hands out its interpreter under this name.
    fails("[{{ ____int3rpr3t3r____ }}]");
    // Bean properties of Java objects are out of reach too (String#getBytes as 'bytes').
    assertEquals("[]", ChatTemplate.of("[{{ 'x'.bytes }}{{ 'x'.class }}]").render(HELLO, true));
  }

  @Test
  void disabledJinjavaExtrasAreRefused() {
    for (String source : List.of("{{ today() }}", "{{ 'x'|md5 }}", "{{ '%0999999999d'|format(1) }}", "{{ 'x'|center(999999999) }}",
        "{% do messages.append(1) %}", "{{ [1,2]|shuffle }}")) {
      fails(source);
    }
  }

  @Test
  void nestedLoopsAreStoppedByTheWorkLimitInBoundedTime() {
    long start = System.nanoTime();
    ChatTemplate.Failure f = fails("{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}"
        + "{% set x = c %}{% endfor %}{% endfor %}{% endfor %}");
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(f.getMessage().contains("steps of work") || f.getMessage().contains("longer than"), f.getMessage());
    assertTrue(ms < 10_000, "took " + ms + " ms");
  }

  @Test
  void slowTemplatesAreStoppedAtTheDeadline() {
    ChatTemplate slow = ChatTemplate.of("{% for a in range(10000) %}{% for b in range(10000) %}{% set x = b %}{% endfor %}{% endfor %}",
        new TemplateSandbox.Limits(1 << 20, Long.MAX_VALUE, Duration.ofMillis(200)));
    long start = System.nanoTime();
    ChatTemplate.Failure f = fails(slow);
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(f.getMessage().contains("took longer than 200 ms"), f.getMessage());
    assertTrue(ms < 5_000, "took " + ms + " ms");
  }

  @Test
  void recursionEndsAtOnceAndMacroFanOutHitsTheWorkLimit() {
    // Jinjava refuses the recursive call (a warning, nothing rendered) where Python would overflow its stack.
    assertEquals("", ChatTemplate.of("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}").render(HELLO, true));
    StringBuilder source = new StringBuilder("{% macro m0() %}x{% endmacro %}");
    for (int i = 1; i <= 30; i++) {
      source.append("{% macro m").append(i).append("() %}{{ m").append(i - 1).append("() }}{{ m").append(i - 1)
          .append("() }}{% endmacro %}");
    }
    long start = System.nanoTime();
    ChatTemplate.Failure f = fails(source.append("{{ m30() }}").toString());
    assertTrue(System.nanoTime() - start < 10_000_000_000L);
    assertTrue(f.getMessage().contains("steps of work") || f.getMessage().contains("longer than")
        || f.getMessage().contains("output exceeds"), f.getMessage());
  }

  @Test
  void anInterruptedRenderStops() throws Exception {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread t = new Thread(() -> {
      Thread.currentThread().interrupt();
      try {
        ChatTemplate.of("{% for a in range(10000) %}{% for b in range(10000) %}{% set x = b %}{% endfor %}{% endfor %}")
            .render(HELLO, true);
      } catch (Throwable e) {
        thrown.set(e);
      }
    });
    t.start();
    t.join(10_000);
    assertFalse(t.isAlive());
    assertTrue(thrown.get() instanceof ChatTemplate.Failure f && f.getMessage().contains("interrupted"), String.valueOf(thrown.get()));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{% for a in range(10000) %}{% for b in range(10000) %}xxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}",
      "{% set s = 'aaaaaaaaaaaaaaaa' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s }}",
      "{% set s = 'aaaaaaaaaaaaaaaa' %}{% for i in range(40) %}{% set s = s + s %}{% endfor %}{{ s|length }}",
      "{% set s = 'a' ~ messages[0].content * 1 %}{% for i in range(30) %}{% set s = s|replace('a', 'aaaaaaaa') %}{% endfor %}{{ s|length }}",
      "{% set s = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' %}{% for i in range(30) %}{% set s = s.replace('a', s) %}{% endfor %}{{ s|length }}",
      "{% set s = 'ab' %}{% for i in range(40) %}{% set s = s.replace('', s) %}{% endfor %}{{ s|length }}",
      "{% set s = 'ab' %}{% for i in range(40) %}{% set s = s.join([s, s, s]) %}{% endfor %}{{ s|length }}",
      "{% set l = [1] %}{% for i in range(40) %}{% set l = l + l %}{% endfor %}{{ l|length }}"})
  void outputAndStringBombsAreStopped(String source) {
    long start = System.nanoTime();
    Runtime rt = Runtime.getRuntime();
    ChatTemplate.Failure f = fails(source);
    assertTrue(System.nanoTime() - start < 10_000_000_000L);
    assertTrue(rt.totalMemory() - rt.freeMemory() < rt.maxMemory(), "still alive");
    assertFalse(f.getMessage().isEmpty());
  }

  @Test
  void pythonStringMethodsAreAvailable() {
    String out = ChatTemplate.of("{{ '  a b  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ 'a,b,,c'.split(',') | join(';') }}|"
        + "{{ ' a  b '.split() | length }}|{{ '<tool>x'.startswith('<tool>') }}|{{ 'x</s>'.endswith(('</s>', 'q')) }}|"
        + "{{ 'hello world'.title() }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|{{ 'aXbX'.replace('X', '-') }}|"
        + "{{ '-'.join(['a', 'b']) }}|{{ 'banana'.count('a') }}|{{ 'banana'.find('n') }}|"
        + "{% set d = {'k': 'v'} %}{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}{{ d.get('z', 'none') }}|"
        + "{{ ' a  b '.split(none, 1) | join('/') }}|{{ 'a,b,c'.split(',', 1) | join('/') }}|{{ 'ab'.replace('', 'x', 2) }}|"
        + "{{ 'hello world-foo'.title() }}|{{ 'aBC'.capitalize() }}|{{ 'banana'.count('') }}|{{ 'abc'.find('z') }}")
        .render(HELLO, true);
    // What Python gives for the same calls.
    assertEquals("a b|hi|a;b;;c|2|true|true|Hello World|HIhi|a-b-|a-b|3|2|k=vnone|a/b |a/b,c|xaxb|Hello World-Foo|Abc|7|-1",
        out);
  }

  @Test
  void raiseExceptionIsARefusalWithTheAuthorsMessage() {
    ChatTemplate.Failure f = assertThrows(ChatTemplate.Failure.class, () -> ChatTemplate.of(
        "{% if messages[0].role == 'user' %}{{ raise_exception('System first, please') }}{% endif %}").render(HELLO, true));
    assertTrue(f.refused());
    assertEquals("chat template refused the conversation: System first, please", f.getMessage());
    assertTrue(ChatTemplate.isRefusal(f.getMessage()));
  }

  // Expected strings printed by src/test/resources/chat-templates/expected_with_jinja2.py (Python Jinja2 3.1).
  private static final List<ChatMessage> CONV = List.of(new ChatMessage("system", "  Be brief. "),
      new ChatMessage("user", "Hi there"), new ChatMessage("assistant", "Hello! "), new ChatMessage("user", "/think What is 2+2?"));
  private static final List<ChatMessage> ALT = List.of(new ChatMessage("user", " What is Inferium? "),
      new ChatMessage("assistant", "An engine."), new ChatMessage("user", "Thanks"));

  private static ChatTemplate real(String name) throws IOException {
    try (InputStream in = ChatTemplateSandboxTest.class.getResourceAsStream("/chat-templates/" + name + ".jinja")) {
      String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return ChatTemplate.fromTokenizerConfig(new JsonObject().put("chat_template", source).put("bos_token", "<s>")
          .put("eos_token", "</s>"));
    }
  }

  @Test
  void llama3RendersAsJinja2Does() throws IOException {
    ChatTemplate t = real("llama3");
    assertEquals("<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
        + "Hi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user"
        + "<|end_header_id|>\n\n/think What is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", t.render(CONV, true));
    assertEquals("<s><|start_header_id|>user<|end_header_id|>\n\nWhat is Inferium?<|eot_id|><|start_header_id|>assistant"
        + "<|end_header_id|>\n\nAn engine.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nThanks<|eot_id|>"
        + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(ALT, true));
  }

  @Test
  void mistralRendersAsJinja2DoesAndRefusesWhatItRefuses() throws IOException {
    ChatTemplate t = real("mistral");
    assertEquals("<s>[INST]  What is Inferium?  [/INST]An engine.</s> [INST] Thanks [/INST]", t.render(ALT, true));
    ChatTemplate.Failure f = assertThrows(ChatTemplate.Failure.class, () -> t.render(CONV, true));
    assertTrue(f.refused());
    assertTrue(f.getMessage().endsWith("Conversation roles must alternate user/assistant/user/assistant/..."), f.getMessage());
  }

  @Test
  void namespaceTemplateRendersAsJinja2Does() throws IOException {
    ChatTemplate t = real("qwen");
    assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"
        + "Hello!<|im_end|>\n<|im_start|>user\nWhat is 2+2? (thinking)<|im_end|>\n\n<|im_start|>assistant\n", t.render(CONV, true));
    assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is Inferium?<|im_end|>\n"
        + "<|im_start|>assistant\nAn engine.<|im_end|>\n<|im_start|>user\nThanks [last of 2]<|im_end|>\n<|im_start|>assistant\n",
        t.render(ALT, true));
  }
}
