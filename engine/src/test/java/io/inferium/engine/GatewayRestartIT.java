package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.ModelBlobs;
import io.inferium.infra.Database;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Nothing is lost across a gateway restart: ready functions serve again, unfinished verifications resume. */
class GatewayRestartIT {

  private static final String ADD_REQUEST = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
      + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";

  @Test
  void functionsSurviveARestartAndInterruptedVerificationsResume() throws Exception {
    try (TestGateway gw = TestGateway.start(1)) {
      JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "kept"), TestGateway.model("add.onnx"));
      assertEquals("ready", rec.getString("state"));
      assertEquals(200, gw.post("/v2/models/kept/infer", ADD_REQUEST).statusCode());

      // A version recorded as verifying with its model stored, as a gateway stopped mid-verification leaves it.
      Path model = TestGateway.model("fixed_shape.onnx");
      String sha = ModelBlobs.sha256(model);
      Path blob = gw.dataDir.resolve("models").resolve("sha256").resolve(sha.substring(0, 2)).resolve(sha + ".onnx");
      Files.createDirectories(blob.getParent());
      Files.copy(model, blob, StandardCopyOption.REPLACE_EXISTING);
      Database db = Database.open(gw.vertx, gw.db.settings()).await(30, TimeUnit.SECONDS);
      db.pool().preparedQuery("INSERT INTO functions (name, version, kind, visibility, spec, model_sha256, model_bytes, state) "
              + "VALUES ('interrupted', 1, 'tensor', 'public', $1, $2, $3, 'verifying')")
          .execute(Tuple.of(new JsonObject().put("name", "interrupted"), sha, Files.size(model)))
          .await(10, TimeUnit.SECONDS);
      db.close().await(10, TimeUnit.SECONDS);

      gw.restart();

      HttpResponse<Buffer> again = gw.post("/v2/models/kept/infer", ADD_REQUEST);
      assertEquals(200, again.statusCode(), again.bodyAsString());
      assertEquals("true", again.getHeader("X-Inferium-Cold-Start"), "a restarted pool loads the model again");
      JsonObject resumed = gw.gateway.pipeline().outcome("interrupted", 1).await(60, TimeUnit.SECONDS).toJson();
      assertEquals("ready", resumed.getString("state"), resumed.encodePrettily());
      assertTrue(resumed.getJsonObject("verification").getJsonArray("checks").size() >= 8);
    }
  }
}
