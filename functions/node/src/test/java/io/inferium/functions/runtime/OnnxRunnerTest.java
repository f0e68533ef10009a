package io.inferium.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.ExecutionDevice;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Half;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Real ONNX Runtime in the test JVM, on the models written by {@code make_models.py}. */
class OnnxRunnerTest {

  private static final long[] ROW_OF_3 = {1, 3};

  private static OnnxRunner runner;
  private final List<LoadedModel> loaded = new ArrayList<>();

  @BeforeAll
  static void createRunner() throws Exception {
    runner = OrtThread.call(() -> OnnxRunner.create(ExecutionDevice.CPU, 1));
  }

  @AfterEach
  void closeModels() throws Exception {
    for (LoadedModel model : loaded) {
      OrtThread.call(() -> {
        model.close();
        return null;
      });
    }
  }

  private LoadedModel load(String fileName) throws Exception {
    LoadedModel model = OrtThread.call(() -> runner.load(model(fileName)));
    loaded.add(model);
    return model;
  }

  private static Path model(String fileName) throws URISyntaxException {
    return Path.of(OnnxRunnerTest.class.getResource("/models/" + fileName).toURI());
  }

  private static List<Tensor> run(LoadedModel model, List<Tensor> inputs, String... outputs) throws Exception {
    return OrtThread.call(() -> model.run(inputs, List.of(outputs), new Cancellation()));
  }

  private static ModelRunException runFails(LoadedModel model, List<Tensor> inputs) {
    return assertThrows(ModelRunException.class,
        () -> OrtThread.call(() -> model.run(inputs, List.of(), new Cancellation())));
  }

  @Test
  void runnerReportsItsRuntimeAndDevice() {
    assertEquals("CPU", runner.device());
    assertTrue(runner.runtimeVersion().startsWith("1."), runner.runtimeVersion());
  }

  @Test
  void addGivesSumAndProduct() throws Exception {
    LoadedModel add = load("add.onnx");
    long[] shape = {2, 4};
    List<Tensor> inputs = List.of(
        Tensors.fp32("a", shape, 1, 2, 3, 4, 5, 6, 7, 8),
        Tensors.fp32("b", shape, 0.5f, -1, 10, 0, 2, 2, 2, 2));

    List<Tensor> all = run(add, inputs);

    assertEquals(List.of("sum", "product"), all.stream().map(Tensor::name).toList(), "every output, in model order");
    assertEquals(DataType.FP32, all.get(0).type());
    assertArrayEquals(shape, all.get(0).shape());
    assertArrayEquals(new float[] {1.5f, 1, 13, 4, 7, 8, 9, 10}, Tensors.toFloatArray(all.get(0)));
    assertArrayEquals(new float[] {0.5f, -2, 30, 0, 10, 12, 14, 16}, Tensors.toFloatArray(all.get(1)));

    List<Tensor> productOnly = run(add, inputs, "product");
    assertEquals(List.of("product"), productOnly.stream().map(Tensor::name).toList());
    assertEquals(all.get(1), productOnly.get(0));
  }

  @Test
  void signatureReportsNamesTypesAndShapesWithMinusOneForSymbolicDimensions() throws Exception {
    ModelSignature add = load("add.onnx").signature();
    assertEquals(List.of(new TensorSpec("a", DataType.FP32, new long[] {-1, 4}), new TensorSpec("b", DataType.FP32, new long[] {-1, 4})),
        add.inputs());
    assertEquals(List.of(new TensorSpec("sum", DataType.FP32, new long[] {-1, 4}),
        new TensorSpec("product", DataType.FP32, new long[] {-1, 4})), add.outputs());

    ModelSignature fixed = load("fixed_shape.onnx").signature();
    assertEquals(List.of(new TensorSpec("x", DataType.FP32, new long[] {2, 3})), fixed.inputs());
    assertEquals(List.of(new TensorSpec("y", DataType.FP32, new long[] {2, 2})), fixed.outputs());

    LoadedModel allTypes = load("all_types.onnx");
    Map<String, DataType> expected = Map.ofEntries(Map.entry("bool", DataType.BOOL), Map.entry("uint8", DataType.UINT8),
        Map.entry("uint16", DataType.UINT16), Map.entry("uint32", DataType.UINT32), Map.entry("uint64", DataType.UINT64),
        Map.entry("int8", DataType.INT8), Map.entry("int16", DataType.INT16), Map.entry("int32", DataType.INT32),
        Map.entry("int64", DataType.INT64), Map.entry("float16", DataType.FP16), Map.entry("float", DataType.FP32),
        Map.entry("double", DataType.FP64), Map.entry("string", DataType.BYTES));
    assertEquals(expected.size(), allTypes.signature().inputs().size());
    expected.forEach((suffix, type) -> {
      assertEquals(new TensorSpec("in_" + suffix, type, new long[] {-1, 3}), allTypes.signature().input("in_" + suffix).orElseThrow());
      assertEquals(new TensorSpec("out_" + suffix, type, new long[] {-1, 3}), allTypes.signature().output("out_" + suffix).orElseThrow());
    });
    assertEquals(List.of(), allTypes.skippedOutputs());
  }

  /** One arith_types case: the input for {@code in_<suffix>} and a check of {@code out_<suffix>}. */
  record ArithCase(String suffix, Tensor input, Consumer<Tensor> check) {
    @Override
    public String toString() {
      return suffix;
    }
  }

  private static Tensor raw(String suffix, DataType type, Consumer<ByteBuffer> values) {
    ByteBuffer buf = ByteBuffer.allocate(3 * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    values.accept(buf);
    return new Tensor("in_" + suffix, type, ROW_OF_3, buf.flip());
  }

  private static Consumer<Tensor> longs(long... expected) {
    return t -> assertArrayEquals(expected, Tensors.toLongArray(t));
  }

  private static Consumer<Tensor> doubles(double... expected) {
    return t -> assertArrayEquals(expected, Tensors.toDoubleArray(t));
  }

  /** x + x per numeric type (integers wrap around as in C), Not for bool. */
  static Stream<ArithCase> arithCases() {
    return Stream.of(
        new ArithCase("uint8", raw("uint8", DataType.UINT8, b -> b.put((byte) 1).put((byte) 100).put((byte) 200)),
            longs(2, 200, 144)),
        new ArithCase("int8", raw("int8", DataType.INT8, b -> b.put((byte) -3).put((byte) 0).put((byte) 100)),
            longs(-6, 0, -56)),
        new ArithCase("int16", raw("int16", DataType.INT16, b -> b.putShort((short) -300).putShort((short) 1).putShort((short) 20000)),
            longs(-600, 2, -25536)),
        new ArithCase("int32", raw("int32", DataType.INT32, b -> b.putInt(-7).putInt(0).putInt(1 << 30)),
            longs(-14, 0, Integer.MIN_VALUE)),
        new ArithCase("int64", Tensors.int64("in_int64", ROW_OF_3, -1, 2, 1L << 40),
            longs(-2, 4, 1L << 41)),
        new ArithCase("float16", raw("float16", DataType.FP16,
            b -> b.putShort(Half.fromFloat(1.5f)).putShort(Half.fromFloat(-0.25f)).putShort(Half.fromFloat(65504f))),
            doubles(3, -0.5, Double.POSITIVE_INFINITY)),
        new ArithCase("float", Tensors.fp32("in_float", ROW_OF_3, 1.5f, -2.25f, 1e30f),
            t -> assertArrayEquals(new float[] {3f, -4.5f, 2e30f}, Tensors.toFloatArray(t))),
        new ArithCase("double", raw("double", DataType.FP64, b -> b.putDouble(0.1).putDouble(-1e300).putDouble(2)),
            doubles(0.2, -2e300, 4)),
        new ArithCase("bool", Tensors.bool("in_bool", ROW_OF_3, true, false, true),
            longs(0, 1, 0)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("arithCases")
  void arithTypesRunsEverySupportedType(ArithCase tested) throws Exception {
    LoadedModel model = load("arith_types.onnx");
    // The session needs every input; each case checks its own output.
    List<Tensor> inputs = arithCases().map(ArithCase::input).toList();

    List<Tensor> out = run(model, inputs, "out_" + tested.suffix());

    assertEquals(1, out.size());
    Tensor result = out.get(0);
    assertEquals("out_" + tested.suffix(), result.name());
    assertEquals(tested.input().type(), result.type());
    assertArrayEquals(ROW_OF_3, result.shape());
    tested.check().accept(result);
  }

  @ParameterizedTest
  @ValueSource(strings = {"UINT16", "UINT32", "UINT64"})
  void unsignedWiderThanEightBitsPassThroughUnchanged(String typeName) throws Exception {
    // ONNX Runtime's public Java API has no such tensor types; UnsignedTensors creates them natively.
    DataType type = DataType.valueOf(typeName);
    LoadedModel model = load("all_types.onnx");
    List<Tensor> inputs = new java.util.ArrayList<>();
    for (io.inferium.functions.TensorSpec spec : model.signature().inputs()) {
      if (spec.type() == DataType.BYTES) {
        inputs.add(Tensors.strings(spec.name(), ROW_OF_3, "x", "y", "z"));
      } else {
        ByteBuffer data = ByteBuffer.allocate(3 * spec.type().byteSize());
        for (int i = 0; i < data.capacity(); i++) {
          data.put(i, spec.type() == DataType.BOOL ? (byte) (i % 2) : (byte) (0xF0 + i));
        }
        inputs.add(new Tensor(spec.name(), spec.type(), ROW_OF_3, data));
      }
    }
    String suffix = type.name().toLowerCase();
    Tensor input = inputs.stream().filter(t -> t.name().equals("in_" + suffix)).findFirst().orElseThrow();

    List<Tensor> out = run(model, inputs, "out_" + suffix);

    assertEquals(type, out.get(0).type());
    assertArrayEquals(input.bytes(), out.get(0).bytes(), "values above the signed range survive: 0xF0.. bytes");
  }

  @Test
  void aWrongShapeIsAClientError() throws Exception {
    LoadedModel add = load("add.onnx");
    long[] wrong = {1, 3};

    ModelRunException e = runFails(add, List.of(Tensors.fp32("a", wrong, 1, 2, 3), Tensors.fp32("b", wrong, 1, 2, 3)));

    assertTrue(e.clientError(), e::getMessage);
    assertTrue(e.getMessage().contains("invalid dimensions for input: a"), e.getMessage());
  }

  @Test
  void aWrongElementTypeIsAClientError() throws Exception {
    LoadedModel add = load("add.onnx");

    ModelRunException e = runFails(add, List.of(
        Tensors.int64("a", new long[] {1, 4}, 1, 2, 3, 4), Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4)));

    assertTrue(e.clientError(), e::getMessage);
    assertTrue(e.getMessage().contains("tensor(int64)") && e.getMessage().contains("tensor(float)"), e.getMessage());
  }

  @Test
  void anUnloadableModelIsNotAClientError() {
    ModelRunException e = assertThrows(ModelRunException.class, () -> load("garbage.onnx"));

    assertTrue(e.getMessage().startsWith("ONNX Runtime could not load the model: "), e.getMessage());
    assertFalse(e.clientError());
  }

  private static List<Tensor> loopInputs(long iterations) {
    return List.of(Tensors.int64("iterations", new long[] {1}, iterations), Tensors.fp32("x", new long[] {1}, 0.5f));
  }

  @Test
  void aShortLoopRunsToTheEnd() throws Exception {
    List<Tensor> out = run(load("loop_by_input.onnx"), loopInputs(10));

    assertArrayEquals(new float[] {10.5f}, Tensors.toFloatArray(out.get(0)));
  }

  @Test
  void cancelFromAnotherThreadStopsARunningLoop() throws Exception {
    LoadedModel loop = load("loop_by_input.onnx");
    Cancellation cancellation = new Cancellation();
    OrtThread<List<Tensor>> run = OrtThread.start(() -> loop.run(loopInputs(1_000_000_000_000_000_000L), List.of(), cancellation));

    run.awaitInside("ai.onnxruntime.OrtSession", "run", Duration.ofSeconds(30));
    long cancelledAt = System.nanoTime();
    cancellation.cancel();
    ExecutionException failed = assertThrows(ExecutionException.class, () -> run.task().get(10, TimeUnit.SECONDS));
    long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancelledAt);

    ModelRunException e = assertInstanceOfCause(failed);
    assertFalse(e.clientError(), e::getMessage);
    assertTrue(e.getMessage().contains("terminate flag"), e.getMessage());
    assertTrue(cancellation.cancelled());
    assertTrue(stopMillis < 5_000, "stopped " + stopMillis + " ms after cancel()");
  }

  @Test
  void aRunCancelledBeforeItStartsStopsAtOnce() throws Exception {
    LoadedModel loop = load("loop_by_input.onnx");
    Cancellation cancellation = new Cancellation();
    cancellation.cancel();

    ModelRunException e = assertThrows(ModelRunException.class,
        () -> OrtThread.call(() -> loop.run(loopInputs(1_000_000_000_000_000_000L), List.of(), cancellation)));

    assertFalse(e.clientError(), e::getMessage);
    assertTrue(e.getMessage().contains("terminate flag"), e.getMessage());
  }

  private static ModelRunException assertInstanceOfCause(ExecutionException e) {
    if (e.getCause() instanceof ModelRunException m) {
      return m;
    }
    throw new AssertionError("expected a ModelRunException, got " + e.getCause(), e.getCause());
  }

  /**
   * ONNX Runtime 1.29 can overflow a default-sized thread stack (a native crash, not an exception),
   * so every call into it runs on a fresh thread with an 8 MiB stack, as the worker's ORT threads do.
   */
  record OrtThread<T>(Thread thread, FutureTask<T> task) {

    private static final long STACK_BYTES = 8L << 20;
    private static final Duration CALL_LIMIT = Duration.ofSeconds(60);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    static <T> OrtThread<T> start(Callable<T> work) {
      FutureTask<T> task = new FutureTask<>(work);
      Thread thread = new Thread(null, task, "ort-test", STACK_BYTES);
      thread.setDaemon(true);
      thread.start();
      return new OrtThread<>(thread, task);
    }

    /** Runs {@code work} on a large-stack thread and returns its result or throws its exception. */
    static <T> T call(Callable<T> work) throws Exception {
      try {
        return start(work).task().get(CALL_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof Exception cause) {
          throw cause;
        }
        throw e;
      }
    }

    /** Polls the thread's stack until a frame of {@code className.method} shows, or fails at the deadline. */
    void awaitInside(String className, String method, Duration limit) {
      long deadline = System.nanoTime() + limit.toNanos();
      while (System.nanoTime() < deadline) {
        if (task.isDone()) {
          throw new AssertionError("the run ended before it was observed running");
        }
        if (Arrays.stream(thread.getStackTrace())
            .anyMatch(f -> f.getClassName().equals(className) && f.getMethodName().equals(method))) {
          return;
        }
        LockSupport.parkNanos(POLL_NANOS);
      }
      throw new AssertionError(thread.getName() + " was not seen inside " + className + "." + method + " within " + limit);
    }
  }
}
