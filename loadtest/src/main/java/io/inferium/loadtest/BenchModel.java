package io.inferium.loadtest;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A benchmark model bundled in the jar: one FP32 input whose per-row shape is {@code rowShape}
 * (the batch dimension comes first and is dynamic), written by the script next to it in
 * {@code loadtest/src/main/python}.
 *
 * @param name        what {@code --model} calls it, and the prefix of the deployed functions
 * @param resource    class-path resource of the ONNX file
 * @param input       the input tensor's name
 * @param rowShape    one row's dimensions, without the batch dimension
 * @param description one line for reports and chart titles
 */
public record BenchModel(String name, String resource, String input, long[] rowShape, String description) {

  /** 256→512→512→10 MLP, ~0.4 M multiply-adds per row: a few microseconds, so the serving path dominates. */
  public static final BenchModel MLP = new BenchModel("mlp", "/models/mlp.onnx", "x", new long[] {256},
      "MLP 256-512-512-10 FP32 (loadtest/src/main/resources/models/mlp.onnx), one row [1,256] per request");

  /** Three 3×3 convolutions at 32×32, ~95 M multiply-adds per row: compute-bound even at batch 1. */
  public static final BenchModel CNN = new BenchModel("cnn", "/models/cnn.onnx", "x", new long[] {3, 32, 32},
      "CNN conv3x3 3-32-64-128 at 32x32, GAP, FC 10, FP32 (loadtest/src/main/resources/models/cnn.onnx), "
          + "one row [1,3,32,32] per request");

  public static final List<BenchModel> ALL = List.of(MLP, CNN);

  public static BenchModel named(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return ALL.stream().filter(m -> m.name().equals(n)).findFirst().orElseThrow(
        () -> new IllegalArgumentException("--model is one of " + ALL.stream().map(BenchModel::name).toList() + ", not " + name));
  }

  /** Values per row. */
  public int rowElements() {
    long n = 1;
    for (long d : rowShape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  /** The full shape of a batch of {@code batch} rows. */
  public long[] shape(long batch) {
    long[] s = new long[rowShape.length + 1];
    s[0] = batch;
    System.arraycopy(rowShape, 0, s, 1, rowShape.length);
    return s;
  }

  /** The short title used for charts: the description up to its first parenthesis. */
  public String title() {
    int p = description.indexOf(" (");
    return (p < 0 ? description : description.substring(0, p)) + ", one row per request";
  }

  @Override
  public String toString() {
    return name + Arrays.toString(rowShape);
  }
}
