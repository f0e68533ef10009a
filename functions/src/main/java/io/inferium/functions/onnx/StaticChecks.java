package io.inferium.functions.onnx;

import io.inferium.functions.VerificationCheck;
import io.inferium.functions.tensor.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The deploy-time checks that need only the model file, never a runtime: they run in the gateway.
 *
 * <p>{@link #run} returns one line per check, always in the order of {@link #CHECK_NAMES}. When the
 * file is too large or does not parse, the checks after it are listed as not run (a warning that
 * says so) rather than left out, so a report always shows every check. One instance verifies one
 * file at a time: {@link #model()} describes the last file run.
 */
public final class StaticChecks {

  public static final String SIZE_LIMIT = "size_limit";
  public static final String ONNX_PROTOBUF = "onnx_protobuf";
  public static final String OPSET_SUPPORTED = "opset_supported";
  public static final String NO_EXTERNAL_DATA = "no_external_data";
  public static final String OPERATOR_DOMAINS = "operator_domains";
  public static final String TYPED_IO = "typed_io";
  public static final List<String> CHECK_NAMES =
      List.of(SIZE_LIMIT, ONNX_PROTOBUF, OPSET_SUPPORTED, NO_EXTERNAL_DATA, OPERATOR_DOMAINS, TYPED_IO);

  private record Outcome(boolean passed, String message) {}

  private final StaticCheckConfig config;
  private OnnxModel model;

  public StaticChecks(StaticCheckConfig config) {
    this.config = config;
  }

  /** The model as read by the last {@link #run}; null if it was too large or did not parse. */
  public OnnxModel model() {
    return model;
  }

  /** Runs every check on the file; never throws for a bad file, only reports it. */
  public List<VerificationCheck> run(Path modelFile) {
    model = null;
    List<VerificationCheck> report = new ArrayList<>();
    report.add(check(SIZE_LIMIT, () -> sizeLimit(modelFile)));
    if (report.get(0).rejects()) {
      return notRun(report, "the file was not read (see " + SIZE_LIMIT + ")");
    }
    report.add(check(ONNX_PROTOBUF, () -> onnxProtobuf(modelFile)));
    if (report.get(1).rejects()) {
      return notRun(report, "the model could not be read (see " + ONNX_PROTOBUF + ")");
    }
    report.add(check(OPSET_SUPPORTED, this::opsetSupported));
    report.add(check(NO_EXTERNAL_DATA, this::noExternalData));
    report.add(check(OPERATOR_DOMAINS, this::operatorDomains));
    report.add(check(TYPED_IO, this::typedIo));
    return report;
  }

  private static VerificationCheck check(String name, Supplier<Outcome> body) {
    long start = System.nanoTime();
    Outcome outcome = body.get();
    long ms = (System.nanoTime() - start) / 1_000_000;
    return outcome.passed()
        ? VerificationCheck.pass(name, outcome.message(), ms)
        : VerificationCheck.fail(name, outcome.message(), ms);
  }

  private static List<VerificationCheck> notRun(List<VerificationCheck> report, String reason) {
    for (String name : CHECK_NAMES.subList(report.size(), CHECK_NAMES.size())) {
      report.add(VerificationCheck.warn(name, "not run: " + reason, 0));
    }
    return report;
  }

  private Outcome sizeLimit(Path file) {
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      return new Outcome(false, "cannot read the model file: " + e);
    }
    if (size > config.maxModelBytes()) {
      String exact = size < 1024 ? "" : " (" + size + " bytes)";
      return new Outcome(false, "model file is " + bytes(size) + exact + ", over the "
          + bytes(config.maxModelBytes()) + " limit");
    }
    return new Outcome(true, "model file is " + bytes(size) + " (limit " + bytes(config.maxModelBytes()) + ")");
  }

  private Outcome onnxProtobuf(Path file) {
    OnnxModel read;
    try {
      read = OnnxModelReader.read(file);
    } catch (InvalidModelException e) {
      return new Outcome(false, e.getMessage());
    }
    model = read;
    if (read.irVersion() <= 0) {
      return new Outcome(false, "the model has no IR version (ir_version is " + read.irVersion()
          + "); re-export it with a current ONNX exporter");
    }
    String producer = read.producerName().isEmpty()
        ? "unknown producer" : (read.producerName() + " " + read.producerVersion()).trim();
    return new Outcome(true, "ONNX IR version " + read.irVersion() + ", " + read.nodeCount()
        + (read.nodeCount() == 1 ? " node" : " nodes") + ", produced by " + producer);
  }

  private Outcome opsetSupported() {
    List<String> tooNew = new ArrayList<>();
    List<String> all = new ArrayList<>();
    for (Map.Entry<String, Long> opset : model.opsetImports().entrySet()) {
      String domain = OnnxNames.displayDomain(opset.getKey());
      Long max = config.maxOpsetByDomain().get(opset.getKey());
      all.add(domain + " " + opset.getValue());
      if (max != null && opset.getValue() > max) {
        tooNew.add(domain + " opset " + opset.getValue() + " (highest supported: " + max + ")");
      }
    }
    if (!tooNew.isEmpty()) {
      return new Outcome(false, "opset newer than this server's ONNX Runtime supports: "
          + String.join(", ", tooNew) + "; export the model with a lower target opset");
    }
    return new Outcome(true, all.isEmpty() ? "the model imports no opsets" : "opsets: " + String.join(", ", all));
  }

  private Outcome noExternalData() {
    List<String> locations = model.externalDataLocations();
    if (!locations.isEmpty()) {
      return new Outcome(false, "tensor data stored outside the model file is not supported; the model"
          + " refers to: " + locations.stream().map(l -> "'" + l + "'").collect(Collectors.joining(", "))
          + ". Save it with every tensor inside the .onnx file"
          + " (onnx.save_model(model, path, save_as_external_data=False))");
    }
    return new Outcome(true, "all tensor data is inside the model file");
  }

  private Outcome operatorDomains() {
    Map<String, Set<String>> disallowed = new TreeMap<>();
    for (String key : model.operatorCounts().keySet()) {
      int colon = key.lastIndexOf(':');
      String domain = colon < 0 ? OnnxNames.DEFAULT_DOMAIN : key.substring(0, colon);
      if (!config.allowedDomains().contains(domain)) {
        disallowed.computeIfAbsent(domain, d -> new TreeSet<>()).add(key.substring(colon + 1));
      }
    }
    String allowed = config.allowedDomains().stream().map(OnnxNames::displayDomain).collect(Collectors.joining(", "));
    if (!disallowed.isEmpty()) {
      String found = disallowed.entrySet().stream()
          .map(e -> OnnxNames.displayDomain(e.getKey()) + " (" + String.join(", ", e.getValue()) + ")")
          .collect(Collectors.joining("; "));
      return new Outcome(false, "operators from domains that are not allowed: " + found
          + "; allowed domains: " + allowed);
    }
    String used = model.operatorCounts().entrySet().stream()
        .map(e -> e.getKey() + " x" + e.getValue()).collect(Collectors.joining(", "));
    return new Outcome(true, "all operators are from allowed domains (" + allowed + "): " + used);
  }

  private Outcome typedIo() {
    List<String> problems = new ArrayList<>();
    model.inputs().forEach(v -> typeProblem("input", v).ifPresent(problems::add));
    model.outputs().forEach(v -> typeProblem("output", v).ifPresent(problems::add));
    if (model.outputs().isEmpty()) {
      problems.add("the graph declares no outputs");
    }
    if (!problems.isEmpty()) {
      return new Outcome(false, "every graph input and output needs a tensor type Inferium carries"
          + " and a shape: " + String.join("; ", problems));
    }
    return new Outcome(true, "inputs: " + signatures(model.inputs()) + "; outputs: " + signatures(model.outputs()));
  }

  private static Optional<String> typeProblem(String role, ValueInfo value) {
    String what = role + " '" + value.name() + "'";
    if (value.elemType() == 0) {
      return Optional.of(what + " has no tensor type");
    }
    Optional<DataType> type = value.dataType();
    if (type.isEmpty()) {
      return Optional.of(what + " has element type " + OnnxNames.elemType(value.elemType())
          + ", which Inferium cannot carry");
    }
    if (value.shape() == null) {
      return Optional.of(what + " (" + type.get().v2Name() + ") has no shape");
    }
    return Optional.empty();
  }

  private static String signatures(List<ValueInfo> values) {
    if (values.isEmpty()) {
      return "none";
    }
    return values.stream().map(v -> v.name() + " " + v.signature()).collect(Collectors.joining(", "));
  }

  private static String bytes(long n) {
    if (n < 1024) {
      return n + " bytes";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double value = n;
    int unit = -1;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return value == Math.rint(value)
        ? String.format(Locale.ROOT, "%d %s", (long) value, units[unit])
        : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
  }
}
