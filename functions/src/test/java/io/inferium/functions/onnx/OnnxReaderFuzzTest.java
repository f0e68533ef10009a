package io.inferium.functions.onnx;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.inferium.functions.VerificationCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Fuzzes the ONNX static reader with mutations of the committed test models (bytes flipped,
 * inserted, removed, truncated, spliced): it returns a model or throws {@link InvalidModelException};
 * {@link StaticChecks} turns every file into checks and never throws.
 */
class OnnxReaderFuzzTest {

  private static final List<byte[]> MODELS = load();
  private static Path scratch;

  private static List<byte[]> load() {
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/models"))) {
      List<byte[]> out = new ArrayList<>();
      for (Path p : files.filter(f -> f.toString().endsWith(".onnx")).sorted().toList()) {
        out.add(Files.readAllBytes(p));
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One edit of a byte array: at a position (as a fraction of its length), of a kind, with a value. */
  record Edit(int kind, double at, int value, int length) {
    byte[] apply(byte[] in) {
      int pos = (int) (at * in.length);
      return switch (kind) {
        case 0 -> { // flip a byte
          byte[] out = in.clone();
          if (out.length > 0) {
            out[Math.min(pos, out.length - 1)] = (byte) value;
          }
          yield out;
        }
        case 1 -> { // insert bytes
          byte[] out = new byte[in.length + length];
          System.arraycopy(in, 0, out, 0, pos);
          java.util.Arrays.fill(out, pos, pos + length, (byte) value);
          System.arraycopy(in, pos, out, pos + length, in.length - pos);
          yield out;
        }
        case 2 -> { // remove bytes
          int n = Math.min(length, in.length - pos);
          byte[] out = new byte[in.length - n];
          System.arraycopy(in, 0, out, 0, pos);
          System.arraycopy(in, pos + n, out, pos, in.length - pos - n);
          yield out;
        }
        case 3 -> java.util.Arrays.copyOf(in, pos); // truncate
        default -> { // a varint that claims a huge length, where a length prefix may be
          byte[] out = in.clone();
          for (int i = 0; i < 5 && pos + i < out.length; i++) {
            out[pos + i] = (byte) (i < 4 ? 0xff : 0x07);
          }
          yield out;
        }
      };
    }
  }

  @Provide
  Arbitrary<byte[]> mutatedModels() {
    Arbitrary<Edit> edit = Combinators.combine(Arbitraries.integers().between(0, 4), Arbitraries.doubles().between(0, 1),
        Arbitraries.integers().between(0, 255), Arbitraries.integers().between(1, 16)).as(Edit::new);
    return Combinators.combine(Arbitraries.integers().between(0, MODELS.size() - 1), edit.list().ofMinSize(1).ofMaxSize(6))
        .as((i, edits) -> {
          byte[] bytes = MODELS.get(i);
          for (Edit e : edits) {
            bytes = e.apply(bytes);
          }
          return bytes;
        });
  }

  @Property(seed = "20261204")
  void readerReturnsAModelOrSaysWhy(@ForAll("mutatedModels") byte[] bytes) {
    try {
      OnnxModelReader.read(bytes);
    } catch (InvalidModelException expected) {
      // the reader's clear error
    }
  }

  @Property(seed = "20261204", tries = 60)
  void staticChecksNeverThrow(@ForAll("mutatedModels") byte[] bytes) throws IOException {
    if (scratch == null) {
      scratch = Files.createTempFile("inferium-fuzz-", ".onnx");
    }
    Files.write(scratch, bytes);
    List<VerificationCheck> checks = new StaticChecks(StaticCheckConfig.defaults()).run(scratch);
    assertFalse(checks.isEmpty());
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    if (scratch != null) {
      Files.deleteIfExists(scratch);
    }
  }
}
