package io.inferium.functions.onnx;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What static inspection learns about an ONNX model without running it.
 *
 * <p>Operators are gathered from the main graph, from every subgraph held in a node attribute
 * (Loop, If and Scan bodies, at any depth) and from the bodies of model-local functions. A node
 * that calls a model-local function is not itself counted as an operator: ONNX Runtime inlines the
 * function, so the operators that run are the ones in its body.
 *
 * @param irVersion             the ONNX IR version the file is stamped with (0 when absent)
 * @param opsetImports          operator set version per domain, {@code ""} for the default domain
 *                              (also when the file spells it {@code "ai.onnx"}), in file order
 * @param producerName          the exporter's name, {@code ""} when absent
 * @param producerVersion       the exporter's version, {@code ""} when absent
 * @param inputs                graph inputs that are not initializers: what a caller must feed
 * @param outputs               graph outputs
 * @param operatorDomains       the domains of all operators used, {@code ""} for the default domain
 * @param operatorCounts        uses per operator, keyed {@code "domain:op"}; default-domain
 *                              operators are keyed by the bare name ({@code "Add"})
 * @param externalDataLocations the {@code location} of every tensor whose data lives outside the
 *                              file, deduplicated, in file order
 * @param nodeCount             nodes in all graphs, subgraphs and function bodies
 */
public record OnnxModel(
    long irVersion,
    Map<String, Long> opsetImports,
    String producerName,
    String producerVersion,
    List<ValueInfo> inputs,
    List<ValueInfo> outputs,
    Set<String> operatorDomains,
    Map<String, Integer> operatorCounts,
    List<String> externalDataLocations,
    int nodeCount) {

  public OnnxModel {
    opsetImports = Collections.unmodifiableMap(new LinkedHashMap<>(opsetImports));
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    operatorDomains = Collections.unmodifiableSet(new TreeSet<>(operatorDomains));
    operatorCounts = Collections.unmodifiableMap(new TreeMap<>(operatorCounts));
    externalDataLocations = List.copyOf(externalDataLocations);
  }

  /** The {@link #operatorCounts()} key for an operator. */
  public static String operatorKey(String domain, String opType) {
    String normalized = OnnxNames.normalizeDomain(domain);
    return normalized.isEmpty() ? opType : normalized + ":" + opType;
  }
}
