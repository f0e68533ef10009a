package io.inferium.functions.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * Lets one thread ask ONNX Runtime to stop a run another thread is executing. The runtime checks the
 * flag between kernels (and loop iterations), so a single stuck kernel may not stop: the caller must
 * still be ready to kill the process.
 */
public final class Cancellation {

  private OrtSession.RunOptions armed;
  private boolean cancelled;

  synchronized void arm(OrtSession.RunOptions options) throws OrtException {
    armed = options;
    if (cancelled) {
      options.setTerminate(true);
    }
  }

  synchronized void disarm() {
    armed = null;
  }

  /** Requests termination now, or as soon as the run starts. */
  public synchronized void cancel() {
    cancelled = true;
    if (armed != null) {
      try {
        armed.setTerminate(true);
      } catch (OrtException e) {
        throw new IllegalStateException("could not signal termination: " + e.getMessage(), e);
      }
    }
  }

  public synchronized boolean cancelled() {
    return cancelled;
  }
}
