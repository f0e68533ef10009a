/**
 * Static inspection of ONNX model files, for the gateway's deploy-time verification.
 *
 * <p>Nothing here loads a model into a runtime: {@link io.inferium.functions.onnx.OnnxModelReader}
 * reads the ONNX protobuf wire format directly and keeps only the facts the checks need, and
 * {@link io.inferium.functions.onnx.StaticChecks} turns those facts into verification report lines.
 * Running the model is the sandbox's job, in another process.
 */
package io.inferium.functions.onnx;
