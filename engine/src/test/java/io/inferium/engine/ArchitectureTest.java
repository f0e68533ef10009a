package io.inferium.engine;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The boundaries the build enforces (docs/ARCHITECTURE.md, "Boundaries"): no package cycles anywhere
 * in {@code io.inferium}; the gateway never links ONNX Runtime, DJL or Jinjava (models, tokenizers
 * and templates are untrusted input for native or interpreted code and run in worker processes
 * only, from the node artifact); and the node and the wire contract hold no gateway, database or
 * event-log code. The module boundaries (functions/wire, functions/node) and engine's enforcer rule
 * enforce the same at compile time; these rules name the packages so a split package cannot hide it.
 */
class ArchitectureTest {

  private static final String[] RUNTIMES = {"ai.onnxruntime..", "ai.djl..", "com.hubspot.jinjava.."};
  private static JavaClasses classes;
  /** The node and the functions modules (wire included) as this build made them. */
  private static JavaClasses functionsAndNode;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
        .importPackages("io.inferium");
    // In a reactor `verify` the node and wire arrive as this build's packaged jars (under some target/);
    // never the copies in the local repository, which may be older.
    functionsAndNode = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(location -> location.contains("/target/") && !location.contains("-tests.jar"))
        .importPackages("io.inferium.functions", "io.inferium.node");
  }

  /**
   * Each {@code io.inferium} package is a slice, together with its {@code impl} sub-package: an API
   * whose static factories build its hidden implementations (EventLog.local → impl.LocalEventLog, the
   * vertx-sql-client shape) is one unit, not a cycle. Any other pair of packages must not depend on
   * each other both ways.
   */
  private static final SliceAssignment PACKAGES_WITH_THEIR_IMPL = new SliceAssignment() {
    @Override
    public SliceIdentifier getIdentifierOf(JavaClass c) {
      String p = c.getPackageName();
      if (!p.startsWith("io.inferium.")) {
        return SliceIdentifier.ignore();
      }
      return SliceIdentifier.of(p.endsWith(".impl") ? p.substring(0, p.length() - ".impl".length()) : p);
    }

    @Override
    public String getDescription() {
      return "io.inferium packages, each with its impl sub-package";
    }
  };

  @Test
  void noPackageCycles() {
    slices().assignedFrom(PACKAGES_WITH_THEIR_IMPL).should().beFreeOfCycles().check(classes);
    slices().assignedFrom(PACKAGES_WITH_THEIR_IMPL).should().beFreeOfCycles().check(functionsAndNode);
  }

  /** Packages of the node artifact (functions/node): the only code that may link the model runtimes. */
  private static final String[] NODE = {"io.inferium.node..", "io.inferium.functions.runtime..", "io.inferium.functions.generation..",
      "io.inferium.functions.media.."};

  @Test
  void onlyTheNodeLinksModelRuntimes() {
    noClasses().that().resideOutsideOfPackages(NODE)
        .should().dependOnClassesThat().resideInAnyPackage(RUNTIMES)
        .check(classes);
    noClasses().that().resideOutsideOfPackages(NODE)
        .should().dependOnClassesThat().resideInAnyPackage(RUNTIMES)
        .check(functionsAndNode);
  }

  /** The same through other modules' classes: no path from the gateway to a model runtime, not even the CLI's. */
  @Test
  void theGatewayDoesNotReachModelRuntimesThroughOtherModules() {
    noClasses().that().resideInAPackage("io.inferium.engine..")
        .should().transitivelyDependOnClassesThat().resideInAnyPackage(RUNTIMES)
        .check(classes);
  }

  /** The gateway reaches workers only through the wire protocol and a class path, never by linking node code. */
  @Test
  void theGatewayDoesNotLinkNodeCode() {
    noClasses().that().resideOutsideOfPackages(NODE)
        .should().dependOnClassesThat().resideInAnyPackage(NODE)
        .check(classes);
  }

  @Test
  void theNodeHoldsNoGatewayDatabaseOrEventCode() {
    noClasses().that().resideInAnyPackage(NODE)
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.inferium.engine..", "io.inferium.infra..", "io.inferium.verifier..", "io.inferium.scoring..",
            "io.inferium.chain..", "org.web3j..", "io.inferium.loadtest..", "io.vertx.sqlclient..", "io.vertx.pgclient..",
            "io.vertx.kafka..", "org.apache.kafka..", "org.flywaydb..")
        .check(functionsAndNode);
  }

  /** The wire contract (shared by gateway and node) stands on its own: no gateway, store, database or event code. */
  @Test
  void theWireContractDependsOnNothingOfTheGateway() {
    noClasses().that().resideInAnyPackage("io.inferium.functions.protocol..", "io.inferium.functions.seal..",
            "io.inferium.functions.tensor..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.inferium.engine..", "io.inferium.infra..", "io.inferium.verifier..", "io.inferium.scoring..",
            "io.inferium.functions.onnx..", "io.inferium.node..", "io.vertx.sqlclient..", "io.vertx.pgclient..",
            "io.vertx.kafka..", "org.apache.kafka..")
        .check(functionsAndNode);
  }
}
