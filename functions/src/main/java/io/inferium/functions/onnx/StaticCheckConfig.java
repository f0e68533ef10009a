package io.inferium.functions.onnx;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Limits the static checks apply to a model file. Domains are written as in ONNX; {@code ""} and
 * {@code "ai.onnx"} both mean the default domain.
 *
 * @param maxModelBytes    the largest accepted file
 * @param maxOpsetByDomain the highest opset accepted per domain; domains not listed are not limited
 *                         here (the domain allowlist decides whether they may be used at all)
 * @param allowedDomains   the operator domains a model may use
 */
public record StaticCheckConfig(long maxModelBytes, Map<String, Long> maxOpsetByDomain, Set<String> allowedDomains) {

  public static final long DEFAULT_MAX_MODEL_BYTES = 512L * 1024 * 1024;

  /**
   * The highest opsets ONNX Runtime 1.29.0 loads. Beyond them it refuses the model with
   * "Opset N is under development and support for this is limited ... Current official support for
   * domain ai.onnx is till opset 26" (and "ai.onnx.ml is till opset 5"), raised by
   * {@code ValidateOpsetForDomain} in {@code onnxruntime/core/graph/model_load_utils.h} from the last
   * released opsets of the ONNX library ORT bundles. Measured by creating sessions with the ORT
   * 1.29.0 Java API for models stamped opset 17..30 and ai.onnx.ml 1..9: 26 and 5 load, 27 and 6 fail.
   * Raise these together with {@code onnxruntime.version} in the parent POM.
   */
  public static final long ORT_MAX_OPSET_ONNX = 26;
  public static final long ORT_MAX_OPSET_ONNX_ML = 5;

  public static final String ONNX_ML_DOMAIN = "ai.onnx.ml";

  public StaticCheckConfig {
    Map<String, Long> opsets = new LinkedHashMap<>();
    maxOpsetByDomain.forEach((domain, max) -> opsets.put(OnnxNames.normalizeDomain(domain), max));
    maxOpsetByDomain = Collections.unmodifiableMap(opsets);
    Set<String> domains = new TreeSet<>();
    allowedDomains.forEach(domain -> domains.add(OnnxNames.normalizeDomain(domain)));
    allowedDomains = Collections.unmodifiableSet(domains);
  }

  /** 512 MiB; only the standard ONNX and ONNX-ML operators, up to what ONNX Runtime 1.29 runs. */
  public static StaticCheckConfig defaults() {
    return new StaticCheckConfig(
        DEFAULT_MAX_MODEL_BYTES,
        Map.of(OnnxNames.DEFAULT_DOMAIN, ORT_MAX_OPSET_ONNX, ONNX_ML_DOMAIN, ORT_MAX_OPSET_ONNX_ML),
        Set.of(OnnxNames.DEFAULT_DOMAIN, ONNX_ML_DOMAIN));
  }
}
