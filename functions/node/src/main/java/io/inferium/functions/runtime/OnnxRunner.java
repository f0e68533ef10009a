package io.inferium.functions.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.inferium.functions.ExecutionDevice;
import java.nio.file.Path;
import java.util.EnumSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ONNX Runtime as a worker process uses it: one environment, sessions created with the chosen
 * execution provider. Only worker processes may create one: a model is untrusted input to native
 * code. Call it from threads with a large stack (see {@code docs/ARCHITECTURE.md}).
 */
public final class OnnxRunner {

  private static final Logger log = LoggerFactory.getLogger(OnnxRunner.class);

  private final OrtEnvironment env;
  private final boolean useCuda;
  private final int intraOpThreads;
  private final boolean spinning;
  private final String deviceDescription;

  private OnnxRunner(OrtEnvironment env, boolean useCuda, int intraOpThreads, boolean spinning,
      String deviceDescription) {
    this.env = env;
    this.useCuda = useCuda;
    this.intraOpThreads = intraOpThreads;
    this.spinning = spinning;
    this.deviceDescription = deviceDescription;
  }

  /** As {@link #create(ExecutionDevice, int, boolean)} with the runtime's own default: intra-op threads spin. */
  public static OnnxRunner create(ExecutionDevice device, int intraOpThreads) {
    return create(device, intraOpThreads, true);
  }

  /**
   * Creates the environment and decides the execution provider once. With {@code AUTO} or
   * {@code CUDA} and no CUDA provider in this build, it logs one line and runs on CPU.
   *
   * @param spinning whether intra-op threads busy-wait for work between and after parallel sections
   *                 ({@code session.intra_op.allow_spinning}): a little lower latency when the runtime has
   *                 its cores to itself, CPU taken from everything else when it shares them
   */
  public static OnnxRunner create(ExecutionDevice device, int intraOpThreads, boolean spinning) {
    OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "inferium-worker");
    EnumSet<OrtProvider> providers = OrtEnvironment.getAvailableProviders();
    boolean cuda = false;
    String description = "CPU";
    if (device != ExecutionDevice.CPU) {
      if (providers.contains(OrtProvider.CUDA) && cudaWorks()) {
        cuda = true;
        description = "CUDA (device 0)";
      } else if (device == ExecutionDevice.CUDA || providers.contains(OrtProvider.CUDA)) {
        log.warn("CUDA execution provider unavailable (build providers: {}); running on CPU", providers);
      }
    }
    log.info("ONNX Runtime {} on {}, {} intra-op thread(s), spinning {}", env.getVersion(), description, intraOpThreads,
        spinning ? "on" : "off");
    return new OnnxRunner(env, cuda, intraOpThreads, spinning, description);
  }

  /** CUDA libraries may be absent even when the build has the provider; try it once. */
  private static boolean cudaWorks() {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.addCUDA(0);
      return true;
    } catch (OrtException | UnsatisfiedLinkError e) {
      log.warn("CUDA execution provider failed to initialise ({}); running on CPU", e.getMessage());
      return false;
    }
  }

  public String runtimeVersion() {
    return env.getVersion();
  }

  /** {@code CPU} or {@code CUDA (device 0)}. */
  public String device() {
    return deviceDescription;
  }

  /** The runtime environment, for loaders that build their own sessions (text models). */
  public OrtEnvironment environment() {
    return env;
  }

  /** Session options as {@link #load} uses them (threads, execution provider); the caller closes them. */
  public OrtSession.SessionOptions sessionOptions() throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(1);
      options.addConfigEntry("session.intra_op.allow_spinning", spinning ? "1" : "0");
      if (useCuda) {
        options.addCUDA(0);
      }
      return options;
    } catch (OrtException e) {
      options.close();
      throw e;
    }
  }

  /** Creates a session; the model's graph is validated and optimised by the runtime here. */
  public LoadedModel load(Path model) throws ModelRunException {
    try (OrtSession.SessionOptions options = sessionOptions()) {
      OrtSession session = env.createSession(model.toString(), options);
      return new LoadedModel(env, session);
    } catch (OrtException e) {
      throw new ModelRunException("ONNX Runtime could not load the model: " + e.getMessage(), false, e);
    }
  }
}
