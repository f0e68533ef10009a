package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensors;
import io.inferium.infra.TestDatabase;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.inferium.verifier.NodeLedger;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two gateways on one database ({@code --shared-db}), each with its own data directory and workers: a model deployed
 * on one is served by the other once copied through the database; a key made on one works on the other and both
 * gateways' calls land on one bill, each once; a text bundle travels whole; an ejection decided on one gateway stops
 * the other's dispatch within seconds and a reinstatement there starts it again; a deleted function leaves both
 * gateways and the database.
 */
class MultiGatewayIT {

  private static final Duration SOON = Duration.ofSeconds(20);

  @Test
  void twoGatewaysShareModelsKeysBillsAndTheLedger() throws Exception {
    // Both start at once on one database (Flyway's lock lets one migrate); B keeps no standby sandbox, as it deploys nothing.
    try (TestDatabase shared = TestDatabase.create()) {
      java.util.concurrent.CompletableFuture<TestGateway> startingB = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return TestGateway.start(1, c -> c.dbUrl(shared.url()).sharedDbSyncMs(300).standbySandboxes(0)
              .blobSweep(new io.inferium.engine.deploy.BlobSweeper.Settings(500, 2_000)));
        } catch (Exception e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      });
      TestGateway a;
      try {
        a = TestGateway.start(1, c -> c.dbUrl(shared.url()).sharedDbSyncMs(300));
      } catch (Exception e) {
        startingB.thenAccept(MultiGatewayIT::closeQuietly);
        throw e;
      }
      try (a; TestGateway b = startingB.get(3, TimeUnit.MINUTES)) {
        run(a, b);
      }
    }
  }

  private static void closeQuietly(TestGateway gw) {
    try {
      gw.close();
    } catch (Exception e) {
      // the test failed already
    }
  }

  private static void run(TestGateway a, TestGateway b) throws Exception {
    {
      assertEquals("ready", a.deployAndWait(new JsonObject().put("name", "shared-add")
          .put("price", new JsonObject().put("per_request_micro_usd", 70)), TestGateway.model("add.onnx")).getString("state"));
      JsonObject request = new JsonObject().put("inputs", new JsonArray()
          .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, 1, 2, 3, 4)))
          .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 10, 20, 30, 40))));

      // B never saw the upload: it copies the model from the database and then answers, correctly.
      Answer fromB = Eventually.value("gateway B to serve shared-add", SOON,
          () -> new Answer(b.infer("shared-add", request)), r -> r.status == 200);
      assertEquals("[11.0,22.0,33.0,44.0]", fromB.json().getJsonArray("outputs").getJsonObject(0)
          .getJsonArray("data").encode());
      assertEquals(1, countBlobs(b), "the model on B's own disk");
      // Copied from the database (B may have done so before A's deploy call returned, so the count is read after).
      assertTrue(b.metrics.scrape().lines().anyMatch(l -> l.startsWith("inferium_shared_models_pulled_total")
          && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) >= 1), "B pulled the model from the database");

      // A tenant and key made on A work on B; each gateway's call is billed once, on one bill.
      assertEquals(201, a.post("/api/tenants", new JsonObject().put("id", "acme").encode()).statusCode());
      String acme = a.newKey("acme", "user");
      assertEquals(200, b.postAs(acme, "/v2/models/shared-add/infer", request).statusCode());
      assertEquals(200, a.postAs(acme, "/v2/models/shared-add/infer", request).statusCode());
      JsonObject usage = Eventually.value("both calls billed", SOON,
          () -> a.get("/api/usage?tenant=acme").bodyAsJsonObject(), u -> u.getLong("requests", 0L) >= 2);
      assertEquals(2, usage.getLong("requests"), usage.encode());
      assertEquals(140, usage.getLong("charge_micro_usd"), usage.encode());

      // A text bundle (manifest and files) travels whole: B embeds with it.
      assertEquals("ready", OpenAiIT.deployText(a, "tiny-embed", new JsonObject()).getString("state"));
      Answer embedded = Eventually.value("gateway B to embed with tiny-embed", Duration.ofSeconds(40),
          () -> new Answer(b.post("/v1/embeddings", new JsonObject().put("model", "tiny-embed").put("input", "a cat").encode())),
          r -> r.status == 200);
      JsonArray vector = embedded.json().getJsonArray("data").getJsonObject(0).getJsonArray("embedding");
      JsonArray onA = a.post("/v1/embeddings", new JsonObject().put("model", "tiny-embed").put("input", "a cat").encode())
          .bodyAsJsonObject().getJsonArray("data").getJsonObject(0).getJsonArray("embedding");
      assertEquals(onA, vector, "the same bundle answers the same on both gateways");

      // A ledger decision on A (a failed attestation ejects at once) reaches B's dispatch; A's reinstatement too.
      String bWorker = b.nodeIdOfSlot("w1");
      a.gateway.ledger().penalize(bWorker, NodeLedger.ATTESTATION_FAILED, "MultiGatewayIT: decided on gateway A")
          .await(10, TimeUnit.SECONDS);
      Eventually.until("B to see its worker ejected", SOON, () -> b.gateway.ledger().isEjected(bWorker));
      assertTrue(b.infer("shared-add", request).statusCode() >= 500, "B's only worker is ejected");
      assertEquals(200, a.post("/api/nodes/" + bWorker + "/reinstate",
          new JsonObject().put("reason", "checked by hand").encode()).statusCode());
      Eventually.value("B to serve again after A's reinstatement", SOON, () -> new Answer(b.infer("shared-add", request)),
          r -> r.status == 200);

      // Deleted on A: gone from B and from the database (tiny-embed's blobs stay).
      long shared = sharedRows(a);
      assertTrue(shared >= 4, "add's model, tiny-embed's manifest and at least its model and tokenizer: " + shared);
      long onB = countBlobs(b);
      assertEquals(200, a.delete("/api/functions/shared-add").statusCode());
      Eventually.value("B to stop serving shared-add", SOON, () -> new Answer(b.infer("shared-add", request)), r -> r.status == 404);
      Eventually.value("the database to drop the deleted model", SOON, () -> sharedRows(a), n -> n == shared - 1);
      // And B's own copy goes too: a deleted model does not linger on the disks of the other gateways.
      Eventually.value("B's copy of the deleted model to go", SOON, () -> countBlobs(b), n -> n == onB - 1);
    }
  }

  /** A response's status and body, printable when a wait runs out. */
  private record Answer(int status, String body) {
    Answer(HttpResponse<Buffer> r) {
      this(r.statusCode(), r.bodyAsString());
    }

    JsonObject json() {
      return new JsonObject(body);
    }
  }

  private static long countBlobs(TestGateway gw) throws Exception {
    try (var files = java.nio.file.Files.walk(gw.dataDir.resolve("models/sha256"))) {
      return files.filter(p -> p.toString().endsWith(".onnx")).count();
    }
  }

  /** Blobs in the shared database. */
  private static long sharedRows(TestGateway gw) throws Exception {
    Pool pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(gw.config.dbUrl())).using(gw.vertx).build();
    try {
      return pool.query("SELECT count(*) FROM shared_models").execute().await(10, TimeUnit.SECONDS)
          .iterator().next().getLong(0);
    } finally {
      pool.close();
    }
  }
}
