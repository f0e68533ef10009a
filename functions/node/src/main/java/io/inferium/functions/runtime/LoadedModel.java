package io.inferium.functions.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A model with an open ONNX Runtime session. Thread-safe for concurrent {@link #run} calls. */
public final class LoadedModel implements AutoCloseable {

  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelSignature signature;
  private final List<String> skippedOutputs = new ArrayList<>();

  LoadedModel(OrtEnvironment env, OrtSession session) throws OrtException {
    this.env = env;
    this.session = session;
    this.signature = new ModelSignature(specs(session.getInputInfo(), null), specs(session.getOutputInfo(), skippedOutputs));
  }

  private static List<TensorSpec> specs(Map<String, NodeInfo> infos, List<String> skipped) throws OrtException {
    List<TensorSpec> out = new ArrayList<>();
    for (NodeInfo node : infos.values()) {
      if (node.getInfo() instanceof TensorInfo t && dataType(t.onnxType) != null) {
        out.add(new TensorSpec(node.getName(), dataType(t.onnxType), t.getShape()));
      } else if (skipped != null) {
        skipped.add(node.getName() + " (" + node.getInfo() + ")");
      } else {
        throw new OrtException("input '" + node.getName() + "' is not a tensor of a supported type: " + node.getInfo());
      }
    }
    return List.copyOf(out);
  }

  /** Inputs and the tensor outputs, as the runtime sees them. */
  public ModelSignature signature() {
    return signature;
  }

  /** Outputs that are not plain tensors (sequences, maps) and so are not served. */
  public List<String> skippedOutputs() {
    return List.copyOf(skippedOutputs);
  }

  /**
   * Runs the model. {@code outputs} empty means every tensor output. The cancellation handle is
   * armed for the run so another thread can ask the runtime to stop it.
   */
  public List<Tensor> run(List<Tensor> inputs, List<String> outputs, Cancellation cancellation) throws ModelRunException {
    Map<String, OnnxTensor> feed = new LinkedHashMap<>();
    try (OrtSession.RunOptions runOptions = new OrtSession.RunOptions()) {
      for (Tensor t : inputs) {
        feed.put(t.name(), toOrt(t));
      }
      Set<String> wanted = new LinkedHashSet<>(outputs);
      if (wanted.isEmpty()) {
        signature.outputs().forEach(o -> wanted.add(o.name()));
      }
      cancellation.arm(runOptions);
      try (OrtSession.Result result = session.run(feed, wanted, runOptions)) {
        List<Tensor> out = new ArrayList<>(wanted.size());
        for (Map.Entry<String, OnnxValue> e : result) {
          out.add(fromOrt(e.getKey(), e.getValue()));
        }
        return out;
      } finally {
        cancellation.disarm();
      }
    } catch (OrtException e) {
      boolean client = e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT;
      throw new ModelRunException(e.getMessage(), client, e);
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  private OnnxTensor toOrt(Tensor t) throws OrtException {
    OnnxJavaType javaType = switch (t.type()) {
      case BOOL -> OnnxJavaType.BOOL;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT8 -> OnnxJavaType.INT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case FP16 -> OnnxJavaType.FLOAT16;
      case BF16 -> OnnxJavaType.BFLOAT16;
      case FP32 -> OnnxJavaType.FLOAT;
      case FP64 -> OnnxJavaType.DOUBLE;
      case BYTES -> OnnxJavaType.STRING;
      case UINT16, UINT32, UINT64 -> OnnxJavaType.UNKNOWN;
    };
    if (javaType == OnnxJavaType.STRING) {
      return OnnxTensor.createTensor(env, Tensors.toStrings(t), t.shape());
    }
    ByteBuffer data = t.view();
    if (!data.isDirect()) {
      // A direct buffer is handed to the runtime without another copy.
      ByteBuffer direct = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.nativeOrder());
      direct.put(data).flip();
      data = direct;
    } else {
      data = data.duplicate().order(ByteOrder.nativeOrder());
    }
    if (javaType == OnnxJavaType.UNKNOWN) {
      TensorInfo.OnnxTensorType unsigned = switch (t.type()) {
        case UINT16 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16;
        case UINT32 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32;
        default -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64;
      };
      return UnsignedTensors.create(env, unsigned, data, t.shape());
    }
    return OnnxTensor.createTensor(env, data, t.shape(), javaType);
  }

  private static Tensor fromOrt(String name, OnnxValue value) throws OrtException {
    if (!(value instanceof OnnxTensor tensor)) {
      throw new OrtException("output '" + name + "' is a " + value.getType() + ", not a tensor");
    }
    TensorInfo info = tensor.getInfo();
    DataType type = dataType(info.onnxType);
    if (type == null) {
      throw new OrtException("output '" + name + "' has unsupported element type " + info.onnxType);
    }
    long[] shape = info.getShape();
    if (type == DataType.BYTES) {
      return Tensors.strings(name, shape, flattenStrings(tensor.getValue(), shape));
    }
    ByteBuffer bytes = tensor.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    return new Tensor(name, type, shape, bytes);
  }

  /** The Java enum numbers its constants its own way, so map by name; null when Inferium has no such type. */
  static DataType dataType(TensorInfo.OnnxTensorType t) {
    return switch (t) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DataType.UINT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DataType.UINT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DataType.UINT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FP16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DataType.BF16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FP32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.FP64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> DataType.BYTES;
      default -> null;
    };
  }

  private static String[] flattenStrings(Object value, long[] shape) {
    String[] out = new String[Math.toIntExact(Tensor.elementCount(shape))];
    int[] next = {0};
    flatten(value, out, next);
    return out;
  }

  private static void flatten(Object value, String[] out, int[] next) {
    if (value instanceof String s) {
      out[next[0]++] = s;
    } else if (value instanceof Object[] array) {
      for (Object o : array) {
        flatten(o, out, next);
      }
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("closing session: " + e.getMessage(), e);
    }
  }
}
