package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.receipts.ReceiptService;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * {@code GET /api/receipts/{requestId}}: the receipt of an answered request with its leaf, and once its epoch has
 * closed its proof, root and epoch, and the anchoring (transaction and block; queued with the last error; or off
 * when no chain is configured). The answer is also a receipt file for {@code inferium verify-receipt}. Only the
 * tenant whose request it was, or an admin, sees it: anyone else gets the same 404 as for an unknown id, so ids
 * cannot be probed.
 */
final class ReceiptRoutes {

  /** Request ids are the server's own (UUIDs, or a client's OpenAI-style id): printable, no slashes, bounded. */
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private final ReceiptService receipts;

  ReceiptRoutes(ReceiptService receipts) {
    this.receipts = receipts;
  }

  void mount(Router router) {
    router.get("/api/receipts/:requestId").handler(this::receipt);
  }

  private void receipt(RoutingContext ctx) {
    String id = ctx.pathParam("requestId");
    if (id == null || !REQUEST_ID.matcher(id).matches()) {
      throw ApiError.badRequest("request id: expected 1 to 128 characters of A-Z a-z 0-9 . _ : -");
    }
    Principal who = Authentication.principal(ctx);
    receipts.lookup(id).onSuccess(found -> {
      if (found.isEmpty() || !(who.isAdmin() || (who.tenantId() != null && Objects.equals(who.tenantId(),
          found.get().tenantId())))) {
        ctx.fail(ApiError.notFound("no receipt for request '" + id + "' (receipts appear a moment after the answer; "
            + "only the tenant that made the request, or an admin, can read one)"));
      } else {
        FunctionRoutes.json(ctx, 200, found.get().body());
      }
    }).onFailure(ctx::fail);
  }
}
