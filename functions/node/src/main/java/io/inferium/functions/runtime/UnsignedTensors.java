package io.inferium.functions.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.Buffer;
import java.nio.ByteBuffer;

/**
 * Creates UINT16, UINT32 and UINT64 input tensors, which ONNX Runtime's public Java API (1.29) cannot:
 * its {@code OnnxJavaType} has no such constants, so it would build a signed tensor the model refuses.
 * The native factory underneath does take the exact element type, so this calls it (and the
 * package-private constructor) by reflection, on the classpath where no module rule forbids it.
 *
 * <p>Pinned to ONNX Runtime 1.29's internals: if they change, {@link #available()} turns false and
 * such inputs fail with a clear message instead; {@code OnnxRunnerTest} notices either way.
 */
final class UnsignedTensors {

  private static final Internals INTERNALS = Internals.find();

  private UnsignedTensors() {}

  private record Internals(Field allocatorField, Field allocatorHandle, Method createFromBuffer,
      Constructor<OnnxTensor> tensorCtor, Constructor<TensorInfo> infoCtor, String problem) {

    static Internals find() {
      try {
        Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("ortApiHandle").setAccessible(true);
        Field allocator = OrtEnvironment.class.getDeclaredField("defaultAllocator");
        allocator.setAccessible(true);
        Field handle = Class.forName("ai.onnxruntime.OrtAllocator").getDeclaredField("handle");
        handle.setAccessible(true);
        Method create = OnnxTensor.class.getDeclaredMethod("createTensorFromBuffer",
            long.class, long.class, Buffer.class, int.class, long.class, long[].class, int.class);
        create.setAccessible(true);
        Constructor<OnnxTensor> ctor = OnnxTensor.class.getDeclaredConstructor(
            long.class, long.class, TensorInfo.class, Buffer.class, boolean.class);
        ctor.setAccessible(true);
        Constructor<TensorInfo> info = TensorInfo.class.getDeclaredConstructor(
            long[].class, OnnxJavaType.class, TensorInfo.OnnxTensorType.class);
        info.setAccessible(true);
        return new Internals(allocator, handle, create, ctor, info, null);
      } catch (ReflectiveOperationException | RuntimeException e) {
        return new Internals(null, null, null, null, null, e.toString());
      }
    }
  }

  static boolean available() {
    return INTERNALS.problem() == null;
  }

  /** A tensor of the given unsigned element type over {@code data} (a direct, native-order buffer). */
  static OnnxTensor create(OrtEnvironment env, TensorInfo.OnnxTensorType type, ByteBuffer data, long[] shape)
      throws OrtException {
    if (!available()) {
      throw new OrtException(OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT, "this ONNX Runtime build's Java API "
          + "cannot create " + type + " tensors (" + INTERNALS.problem() + ")");
    }
    try {
      Field api = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("ortApiHandle");
      api.setAccessible(true);
      long apiHandle = api.getLong(null);
      Object allocator = INTERNALS.allocatorField().get(env);
      long allocatorHandle = INTERNALS.allocatorHandle().getLong(allocator);
      long handle = (long) INTERNALS.createFromBuffer().invoke(null, apiHandle, allocatorHandle, data, data.position(),
          (long) data.remaining(), shape, type.value);
      TensorInfo info = INTERNALS.infoCtor().newInstance(shape, OnnxJavaType.UNKNOWN, type);
      return INTERNALS.tensorCtor().newInstance(handle, allocatorHandle, info, data, false);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof OrtException ort) {
        throw ort;
      }
      throw new OrtException("creating a " + type + " tensor failed: " + e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new OrtException("creating a " + type + " tensor failed: " + e);
    }
  }
}
