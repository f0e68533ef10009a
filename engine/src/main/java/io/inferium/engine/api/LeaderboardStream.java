package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.scoring.ScoringService;
import io.inferium.scoring.board.Leaderboard;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Consumer;

/**
 * {@code GET /api/leaderboard/stream?category=&sort=}: Server-Sent Events. The first event is the
 * current board; after that an {@code event: leaderboard} is sent whenever something the board shows
 * changes (a vote, a rating, a finished benchmark run, new usage) and the board as this caller sees it
 * differs from the last one sent. Recomputation is coalesced to at most one per
 * {@link #COALESCE_MS} per connection; a comment line every 15 s keeps proxies from closing it.
 */
final class LeaderboardStream {

  /** The endless stream of board changes: a drain does not wait for it. */
  static final String PATH = "/api/leaderboard/stream";

  static final long COALESCE_MS = 250;
  private static final long KEEPALIVE_MS = 15_000;

  private final ScoringService scoring;

  LeaderboardStream(ScoringService scoring) {
    this.scoring = scoring;
  }

  void mount(Router router) {
    router.get(PATH).handler(this::stream);
  }

  private void stream(RoutingContext ctx) {
    String category = ctx.queryParams().get("category");
    if (category == null || category.isBlank()) {
      throw ApiError.badRequest("query parameter 'category': required");
    }
    String sort = ctx.queryParams().get("sort") == null ? "score" : ctx.queryParams().get("sort");
    if (!Leaderboard.SORTS.contains(sort)) {
      throw ApiError.badRequest("query parameter 'sort': expected " + String.join(" | ", Leaderboard.SORTS) + ", got '"
          + sort + "'");
    }
    Principal who = Authentication.principal(ctx);
    HttpServerResponse res = ctx.response();
    res.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache")
        .putHeader("X-Accel-Buffering", "no");
    io.vertx.core.Context context = ctx.vertx().getOrCreateContext();
    Subscriber sub = new Subscriber(ctx, res, category, sort, who);
    Consumer<String> listener = changed -> {
      if (changed == null || changed.equals(category)) {
        context.runOnContext(v -> sub.dirty());
      }
    };
    scoring.onChange(listener);
    long keepalive = ctx.vertx().setPeriodic(KEEPALIVE_MS, id -> {
      if (sub.closed) {
        return;
      }
      if (res.writeQueueFull()) {
        // A client that stops reading would otherwise make the gateway buffer boards for it for ever.
        ctx.request().connection().close();
        return;
      }
      res.write(": keepalive\n\n");
    });
    res.closeHandler(v -> {
      sub.closed = true;
      scoring.removeListener(listener);
      ctx.vertx().cancelTimer(keepalive);
    });
    res.write(": leaderboard " + category + "\n\n");
    sub.dirty();
  }

  /** One connection's state; touched only on its request's context. */
  private final class Subscriber {
    final RoutingContext ctx;
    final HttpServerResponse res;
    final String category;
    final String sort;
    final Principal who;
    boolean closed;
    boolean computing;
    boolean again;
    String last;
    long seq;

    Subscriber(RoutingContext ctx, HttpServerResponse res, String category, String sort, Principal who) {
      this.ctx = ctx;
      this.res = res;
      this.category = category;
      this.sort = sort;
      this.who = who;
    }

    void dirty() {
      if (closed) {
        return;
      }
      if (computing) {
        again = true;
        return;
      }
      computing = true;
      scoring.board(category, sort, who.tenantId(), who.isAdmin()).onComplete(ar -> {
        if (ar.succeeded() && !closed) {
          String data = ar.result().encode();
          if (!data.equals(last)) {
            last = data;
            res.write("id: " + (++seq) + "\nevent: leaderboard\ndata: " + data + "\n\n");
          }
        }
        ctx.vertx().setTimer(COALESCE_MS, t -> {
          computing = false;
          if (again) {
            again = false;
            dirty();
          }
        });
      });
    }
  }

}
