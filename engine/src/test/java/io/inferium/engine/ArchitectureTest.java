package io.inferium.engine;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The boundaries the build enforces (docs/ARCHITECTURE.md, "Boundaries"): no package cycles anywhere
 * in {@code io.inferium}; the gateway never links ONNX Runtime, DJL or Jinjava (models, tokenizers
 * and templates are untrusted input for native or interpreted code and run in worker processes
 * only); and the worker (node) side holds no gateway, database or event-log code.
 */
class ArchitectureTest {

  private static final String[] RUNTIMES = {"ai.onnxruntime..", "ai.djl..", "com.hubspot.jinjava.."};
  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
        .importPackages("io.inferium");
  }

  @Test
  void noPackageCycles() {
    slices().matching("io.inferium.(**)").should().beFreeOfCycles().check(classes);
  }

  @Test
  void theGatewayDoesNotLinkModelRuntimes() {
    noClasses().that().resideInAPackage("io.inferium.engine..")
        .and().resideOutsideOfPackage("io.inferium.node..")
        .and().doNotHaveFullyQualifiedName("io.inferium.engine.cli.WorkerCommand")
        .should().dependOnClassesThat().resideInAnyPackage(RUNTIMES)
        .check(classes);
  }

  /**
   * The same through other modules' classes. One known path remains until the node gets its own
   * artifact (issue 11): the CLI's entry point lists the worker command. Nothing else may join it.
   */
  @Test
  void theGatewayDoesNotReachModelRuntimesThroughOtherModules() {
    noClasses().that().resideInAPackage("io.inferium.engine..")
        .and().resideOutsideOfPackage("io.inferium.node..")
        .and().doNotHaveFullyQualifiedName("io.inferium.engine.cli.WorkerCommand")
        .and().doNotHaveFullyQualifiedName("io.inferium.engine.cli.Main")
        .should().transitivelyDependOnClassesThat().resideInAnyPackage(RUNTIMES)
        .check(classes);
  }

  @Test
  void theWorkerHoldsNoGatewayDatabaseOrEventCode() {
    noClasses().that().resideInAPackage("io.inferium.node..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.inferium.engine.api..", "io.inferium.engine.mempool..", "io.inferium.engine.gateway..",
            "io.inferium.engine.text..", "io.inferium.engine.scoring..", "io.inferium.engine.deploy..",
            "io.inferium.scoring..", "io.inferium.infra.events..", "io.vertx.sqlclient..", "io.vertx.pgclient..",
            "org.apache.kafka..", "org.flywaydb..")
        .check(classes);
  }
}
